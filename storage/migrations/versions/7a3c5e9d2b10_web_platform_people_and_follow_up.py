"""web platform: organisations, users, API tokens; report follow-up, timeline and audit trail

Revision ID: 7a3c5e9d2b10
Revises: b7d2c41e9a10
Create Date: 2026-11-25 15:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '7a3c5e9d2b10'
down_revision: str | None = 'b7d2c41e9a10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The audit trail and the timeline are append-only: the code has no path that updates or deletes
# them, and the database refuses too, so a bug or a hand-typed SQL statement cannot rewrite history.
APPEND_ONLY = ('report_changes', 'report_events')


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            """
            CREATE FUNCTION kuf_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} '
                'FOR EACH ROW EXECUTE FUNCTION kuf_append_only()'
            )
    else:
        for table in APPEND_ONLY:
            for verb in ('UPDATE', 'DELETE'):
                op.execute(
                    f'CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} '
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # Trigram indexes make "site contains" and the search in details an index scan.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')

    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('provinces', sa.JSON(), nullable=False),
    sa.Column('territories', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_api_tokens_organisation_id', 'api_tokens', ['organisation_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_index('ix_users_organisation_id', 'users', ['organisation_id'], unique=False)

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification', sa.String(length=20), server_default='unverified', nullable=False))
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('assigned_org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_reports_duplicate_of', 'reports', ['duplicate_of_id'], ['id'])
        batch_op.create_foreign_key('fk_reports_assigned_org', 'organisations', ['assigned_org_id'], ['id'])
        batch_op.create_index('ix_reports_duplicate_of_id', ['duplicate_of_id'], unique=False)
        batch_op.create_index('ix_reports_inbox_assigned', ['assigned_org_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_category', ['category', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_occurred', ['occurred_on', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_province', ['province_iso', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_status', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_subcategory', ['subcategory', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_territory', ['territory_pcode', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_inbox_verification', ['verification', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_reports_site_trgm', ['site'], unique=False, postgresql_using='gin', postgresql_ops={'site': 'gin_trgm_ops'})
        batch_op.create_index('ix_reports_details_trgm', ['details'], unique=False, postgresql_using='gin', postgresql_ops={'details': 'gin_trgm_ops'})

    op.create_table('report_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=True),
    sa.Column('previous', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('target_org_id', sa.Integer(), nullable=True),
    sa.Column('target_report_id', sa.Integer(), nullable=True),
    sa.Column('action_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ),
    sa.ForeignKeyConstraint(['target_org_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['target_report_id'], ['reports.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_events_forwards', 'report_events', ['target_org_id', 'kind', 'report_id'], unique=False)
    op.create_index('ix_report_events_report_id', 'report_events', ['report_id'], unique=False)

    op.create_table('report_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['report_events.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_changes_event_id', 'report_changes', ['event_id'], unique=False)
    op.create_index('ix_report_changes_report_id', 'report_changes', ['report_id'], unique=False)

    _append_only_triggers()


def downgrade() -> None:
    op.drop_table('report_changes')  # its triggers go with it
    op.drop_table('report_events')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS kuf_append_only()')

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_details_trgm')
        batch_op.drop_index('ix_reports_site_trgm')
        batch_op.drop_index('ix_reports_inbox_verification')
        batch_op.drop_index('ix_reports_inbox_territory')
        batch_op.drop_index('ix_reports_inbox_subcategory')
        batch_op.drop_index('ix_reports_inbox_status')
        batch_op.drop_index('ix_reports_inbox_province')
        batch_op.drop_index('ix_reports_inbox_occurred')
        batch_op.drop_index('ix_reports_inbox_category')
        batch_op.drop_index('ix_reports_inbox_assigned')
        batch_op.drop_index('ix_reports_duplicate_of_id')
        batch_op.drop_constraint('fk_reports_assigned_org', type_='foreignkey')
        batch_op.drop_constraint('fk_reports_duplicate_of', type_='foreignkey')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('assigned_org_id')
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('verification')

    op.drop_index('ix_users_organisation_id', table_name='users')
    op.drop_table('users')
    op.drop_index('ix_api_tokens_organisation_id', table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_table('organisations')
