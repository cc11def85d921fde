"""privacy: consent records, supporters' requests, erased supporters

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('privacy_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_privacy_requests_section_code_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_requests_section_status', ['section_code', 'status'], unique=False)

    op.create_table('consent_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('supporter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('wording_version', sa.String(length=40), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_consent_records_action_id_actions')),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_consent_records_section_code_sections')),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_consent_records_supporter_id_supporters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index('ix_consent_records_supporter', ['supporter_id'], unique=False)

    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_supporter')

    op.drop_table('consent_records')
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_requests_section_status')

    op.drop_table('privacy_requests')
    # ### end Alembic commands ###
