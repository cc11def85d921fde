"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 21:32:04.076170
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('person', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('goal', sa.Integer(), nullable=True),
    sa.Column('colour', sa.String(length=32), nullable=False),
    sa.Column('hashtag', sa.String(length=100), nullable=True),
    sa.Column('authority', sa.JSON(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_source'), ['source'], unique=False)

    op.create_table('counter_shards',
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('action_type', sa.String(length=100), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('section_code', 'case_id', 'action_type', 'shard', name=op.f('pk_counter_shards'))
    )
    op.create_table('sections',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sections'))
    )
    op.create_table('success_stories',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('person', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_success_stories'))
    )
    with op.batch_alter_table('success_stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_success_stories_source'), ['source'], unique=False)

    op.create_table('case_texts',
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('ask', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_texts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'language', name=op.f('pk_case_texts'))
    )
    op.create_table('section_plugins',
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('plugin_name', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_section_plugins_section_code_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('section_code', 'plugin_name', name=op.f('pk_section_plugins'))
    )
    op.create_table('story_texts',
    sa.Column('story_id', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('quote_by', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['story_id'], ['success_stories.id'], name=op.f('fk_story_texts_story_id_success_stories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('story_id', 'language', name=op.f('pk_story_texts'))
    )
    op.create_table('supporters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_supporters_section_code_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporters')),
    sa.UniqueConstraint('section_code', 'email', name=op.f('uq_supporters_section_code'))
    )
    op.create_table('actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('action_type', sa.String(length=100), nullable=False),
    sa.Column('supporter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('dedupe_key', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_actions_case_id_cases')),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_actions_section_code_sections')),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_actions_supporter_id_supporters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
    sa.UniqueConstraint('section_code', 'dedupe_key', name=op.f('uq_actions_section_code'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_section_case', ['section_code', 'case_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('action_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('section_code', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=True),
    sa.Column('bundle', sa.Boolean(), nullable=False),
    sa.Column('recipient', sa.JSON(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_deliveries_action_id_actions')),
    sa.ForeignKeyConstraint(['section_code'], ['sections.code'], name=op.f('fk_deliveries_section_code_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('key', name=op.f('uq_deliveries_key'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_due')

    op.drop_table('deliveries')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_section_case')

    op.drop_table('actions')
    op.drop_table('supporters')
    op.drop_table('story_texts')
    op.drop_table('section_plugins')
    op.drop_table('case_texts')
    with op.batch_alter_table('success_stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_success_stories_source'))

    op.drop_table('success_stories')
    op.drop_table('sections')
    op.drop_table('counter_shards')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_source'))

    op.drop_table('cases')
