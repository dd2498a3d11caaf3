"""jobs: big documents rendered by a queue (the jobs table; on PostgreSQL also procrastinate's schema)

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-07 09:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql'), nullable=False),
        sa.Column('dedupe_key', sa.String(length=64), nullable=False),
        sa.Column('document_key', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_owner', sa.String(length=100), nullable=True),
        sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('unit_path', sa.String(length=400), nullable=True),
        sa.Column('personal', sa.Boolean(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('result_path', sa.String(length=500), nullable=True),
        sa.Column('error', sa.String(length=1000), nullable=True),
        sa.Column('queue_ref', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_state')),
        sa.CheckConstraint('progress_done >= 0 AND progress_total >= 0', name=op.f('ck_jobs_progress_positive')),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_jobs_requested_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index('ix_jobs_state_id', 'jobs', ['state', 'id'], unique=False)
    op.create_index(op.f('ix_jobs_document_key'), 'jobs', ['document_key'], unique=False)
    op.create_index(
        'uq_jobs_live_dedupe_key',
        'jobs',
        ['dedupe_key'],
        unique=True,
        sqlite_where=sa.text("state <> 'failed'"),
        postgresql_where=sa.text("state <> 'failed'"),
    )
    if op.get_bind().dialect.name == 'postgresql':
        # procrastinate's own schema (tables, types, functions, triggers) of the pinned version, in the same
        # transaction: requests defer its jobs by calling procrastinate_defer_jobs_v1 (fundsvc/jobs/queues.py).
        from procrastinate.schema import SchemaManager

        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
            "procrastinate_workers CASCADE"
        )
        op.execute(
            "DO $$ DECLARE f record; BEGIN "
            "FOR f IN SELECT oid::regprocedure AS signature FROM pg_proc WHERE proname LIKE 'procrastinate%' LOOP "
            "EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE'; END LOOP; END $$"
        )
        op.execute(
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
            "procrastinate_job_status CASCADE"
        )
    op.drop_index('uq_jobs_live_dedupe_key', table_name='jobs')
    op.drop_index(op.f('ix_jobs_document_key'), table_name='jobs')
    op.drop_index('ix_jobs_state_id', table_name='jobs')
    op.drop_table('jobs')
