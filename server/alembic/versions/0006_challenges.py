"""systematic challenges: tags on closed cases; privacy-free usage tallies for the monthly report

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_counts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("town", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("value", sa.Integer, nullable=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_usage_counts_day", "usage_counts", ["day"])
    op.create_table(
        "case_challenges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("town", sa.String(128), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
    )
    op.create_index("ix_case_challenges_day", "case_challenges", ["day"])


def downgrade() -> None:
    op.drop_index("ix_case_challenges_day", "case_challenges")
    op.drop_table("case_challenges")
    op.drop_index("ix_usage_counts_day", "usage_counts")
    op.drop_table("usage_counts")
