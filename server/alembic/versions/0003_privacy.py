"""privacy: notice flag and closing time on sessions, audit log, pending Rasa tracker erasures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_sessions") as batch:
        batch.add_column(sa.Column("privacy_notice_shown", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_chat_sessions_last_activity_at", "chat_sessions", ["last_activity_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer, nullable=True),
        sa.Column("session_id", sa.String(32), nullable=True),
        sa.Column("via", sa.String(16), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_case_id", "audit_log", ["case_id"])
    op.create_table(
        "pending_tracker_erasures",
        sa.Column("sender_id", sa.String(32), primary_key=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_tracker_erasures")
    op.drop_table("audit_log")
    op.drop_index("ix_chat_sessions_last_activity_at", "chat_sessions")
    with op.batch_alter_table("chat_sessions") as batch:
        batch.drop_column("closed_at")
        batch.drop_column("privacy_notice_shown")
