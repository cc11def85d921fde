"""section admin: accounts, grants, audit log, sign-in attempts, plugin settings, case overrides

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_global', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_users')),
    sa.UniqueConstraint('email', name=op.f('uq_admin_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_email', sa.String(length=320), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_section_at', ['section_code', 'at'], unique=False)

    op.create_table('sign_in_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts'))
    )
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_attempts_key_at', ['key', 'at'], unique=False)

    op.create_table('admin_grants',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_admin_grants_section_code_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['admin_users.id'], name=op.f('fk_admin_grants_user_id_admin_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'section_code', name=op.f('pk_admin_grants'))
    )
    op.create_table('case_overrides',
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('goal', sa.Integer(), nullable=True),
    sa.Column('routing', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_overrides_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_case_overrides_section_code_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('section_code', 'case_id', name=op.f('pk_case_overrides'))
    )
    op.create_table('plugin_settings',
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('plugin_name', sa.String(length=100), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_plugin_settings_section_code_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('section_code', 'plugin_name', name=op.f('pk_plugin_settings'))
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table('plugin_settings')
    op.drop_table('case_overrides')
    op.drop_table('admin_grants')
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_attempts_key_at')

    op.drop_table('sign_in_attempts')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_section_at')

    op.drop_table('audit_log')
    op.drop_table('admin_users')
    # ### end Alembic commands ###
