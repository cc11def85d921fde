"""delivery bundles: batch rows, references and produced files

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("reference", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("files", sa.JSON(), nullable=True))
        batch_op.create_index("ix_deliveries_batch", ["batch_id"], unique=False)
        batch_op.create_foreign_key("fk_deliveries_batch_id_deliveries", "deliveries", ["batch_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_batch_id_deliveries", type_="foreignkey")
        batch_op.drop_index("ix_deliveries_batch")
        batch_op.drop_column("files")
        batch_op.drop_column("reference")
        batch_op.drop_column("batch_id")
