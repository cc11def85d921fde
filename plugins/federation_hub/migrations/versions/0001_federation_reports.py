"""The hub's latest count report of each member deployment.

Revision ID: federation_hub_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "federation_hub_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_reports",
        sa.Column("deployment", sa.String(100), primary_key=True),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("federation_reports")
