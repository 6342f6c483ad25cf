"""unanswered questions, for grouping by the editors

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("chat_sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("entry_id", sa.String(128), nullable=True),
        sa.Column("draft_id", sa.Integer, nullable=True),
    )
    op.create_index("ix_unanswered_questions_session_id", "unanswered_questions", ["session_id"])
    op.create_index("ix_unanswered_questions_created_at", "unanswered_questions", ["created_at"])
    op.create_index("ix_unanswered_questions_resolved_at", "unanswered_questions", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_unanswered_questions_resolved_at", "unanswered_questions")
    op.drop_index("ix_unanswered_questions_created_at", "unanswered_questions")
    op.drop_index("ix_unanswered_questions_session_id", "unanswered_questions")
    op.drop_table("unanswered_questions")
