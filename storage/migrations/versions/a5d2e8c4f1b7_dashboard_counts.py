"""dashboard: counts kept by month at write time (dashboard_counts and its triggers); the covering
index also holds assigned_org_id and id (a CSO's restricted view is an index-only scan)

Revision ID: a5d2e8c4f1b7
Revises: f3a7c1e5b9d2
Create Date: 2026-11-25 22:30:00

The triggers keep ``dashboard_counts`` in the same transaction as every write to ``reports``
(storage/models.py, ``DashboardCount``). On PostgreSQL, an INSERT and a DELETE by statement,
over their transition tables (a COPY of a million reports adds one row per key, not three per
report); an UPDATE by row, only when a counted column changes (an UPDATE of updated_at alone
calls nothing); TRUNCATE empties the counts. On SQLite, row-level triggers. The groups are
``storage.queries.dashboard.PAIRS`` as of this revision: (category, subcategory), (province,
territoire), (status, verification, channel, language). A change of the groups needs a migration
that rewrites these triggers and fills the table again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "a5d2e8c4f1b7"
down_revision: str | None = "f3a7c1e5b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = [
    "category",
    "subcategory",
    "province_iso",
    "territory_pcode",
    "status",
    "verification",
    "channel",
    "language",
]
WATCHED = ["created_at", "duplicate_of_id", *COUNTED]  # what a count depends on
COLUMNS = [
    "grp",
    "category",
    "subcategory",
    "province",
    "territory",
    "status",
    "verification",
    "channel",
    "language",
]
KEY = ", ".join(["month", *COLUMNS])  # the columns a count is summed by
# Each group's row of a report ``{r}``; a column that can be NULL in reports is '' in the counts.
GROUPS = [
    ["0", "coalesce({r}.category, '')", "coalesce({r}.subcategory, '')", *["''"] * 6],
    [
        "1",
        "''",
        "''",
        "coalesce({r}.province_iso, '')",
        "coalesce({r}.territory_pcode, '')",
        *["''"] * 4,
    ],
    [
        "2",
        *["''"] * 4,
        "coalesce({r}.status, '')",
        "coalesce({r}.verification, '')",
        "coalesce({r}.channel, '')",
        "coalesce({r}.language, '')",
    ],
]


def _named(row: str, group: list[str]) -> str:
    return ", ".join(
        f"{value.format(r=row)} AS {name}" for value, name in zip(group, COLUMNS, strict=True)
    )


def _pg_rows(table: str, sign: int) -> str:
    """Each counted report of a transition table as its three rows, ``sign`` each."""
    values = ", ".join("(" + ", ".join(v.format(r="r") for v in g) + ")" for g in GROUPS)
    return (
        f"SELECT to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, g.*, {sign} AS n "
        f"FROM {table} r CROSS JOIN LATERAL (VALUES {values}) AS g({', '.join(COLUMNS)}) "
        "WHERE r.duplicate_of_id IS NULL"
    )


def _pg_insert(*parts: str) -> str:
    union = " UNION ALL ".join(parts)
    return (
        f"INSERT INTO dashboard_counts ({KEY}, n) "
        f"SELECT {KEY}, sum(n) FROM ({union}) AS d GROUP BY {KEY} HAVING sum(n) <> 0"
    )


def _sqlite_rows(row: str, sign: int) -> list[str]:
    return [
        f"SELECT strftime('%Y-%m', {row}.created_at) AS month, {_named(row, g)}, {sign} AS n "
        f"WHERE {row}.duplicate_of_id IS NULL"
        for g in GROUPS
    ]


def _sqlite_insert(*parts: str) -> str:
    union = " UNION ALL ".join(parts)
    return (
        f"INSERT INTO dashboard_counts ({KEY}, n) "
        f"SELECT {KEY}, sum(n) FROM ({union}) GROUP BY {KEY} HAVING sum(n) <> 0"
    )


def _triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION kuf_dashboard_counts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_pg_insert(_pg_rows("new_rows", 1))};
                ELSIF TG_OP = 'DELETE' THEN
                    {_pg_insert(_pg_rows("old_rows", -1))};
                ELSE
                    DELETE FROM dashboard_counts;
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER reports_dashboard_insert AFTER INSERT ON reports "
            "REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kuf_dashboard_counts()"
        )
        # An UPDATE row by row, and only of a row whose counted columns changed: the follow-up's
        # other writes (an action, a message: updated_at only) never call the trigger.
        old_row = _pg_rows("(SELECT OLD.*)", -1)
        new_row = _pg_rows("(SELECT NEW.*)", 1)
        op.execute(
            f"""
            CREATE FUNCTION kuf_dashboard_counts_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_pg_insert(old_row, new_row)};
                RETURN NULL;
            END $$
            """
        )
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
        op.execute(
            f"CREATE TRIGGER reports_dashboard_update AFTER UPDATE OF {', '.join(WATCHED)} "
            f"ON reports FOR EACH ROW WHEN ({changed}) "
            "EXECUTE FUNCTION kuf_dashboard_counts_row()"
        )
        op.execute(
            "CREATE TRIGGER reports_dashboard_delete AFTER DELETE ON reports "
            "REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION kuf_dashboard_counts()"
        )
        op.execute(
            "CREATE TRIGGER reports_dashboard_truncate AFTER TRUNCATE ON reports "
            "FOR EACH STATEMENT EXECUTE FUNCTION kuf_dashboard_counts()"
        )
        return
    op.execute(
        "CREATE TRIGGER reports_dashboard_insert AFTER INSERT ON reports "
        f"BEGIN {_sqlite_insert(*_sqlite_rows('NEW', 1))}; END"
    )
    op.execute(
        f"CREATE TRIGGER reports_dashboard_update AFTER UPDATE OF {', '.join(WATCHED)} ON reports "
        f"WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in WATCHED)} "
        f"BEGIN {_sqlite_insert(*_sqlite_rows('OLD', -1), *_sqlite_rows('NEW', 1))}; END"
    )
    op.execute(
        "CREATE TRIGGER reports_dashboard_delete AFTER DELETE ON reports "
        f"BEGIN {_sqlite_insert(*_sqlite_rows('OLD', -1))}; END"
    )


def _fill() -> None:
    """The counts of the reports already stored. The triggers exist already and, on PostgreSQL,
    hold a lock that keeps writers out until this commits: nothing is counted twice or missed."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_insert(_pg_rows("reports", 1)))
        return
    groups = " UNION ALL ".join(
        f"SELECT strftime('%Y-%m', r.created_at) AS month, {_named('r', g)} "
        "FROM reports r WHERE r.duplicate_of_id IS NULL"
        for g in GROUPS
    )
    op.execute(
        f"INSERT INTO dashboard_counts ({KEY}, n) "
        f"SELECT {KEY}, count(*) FROM ({groups}) GROUP BY {KEY}"
    )


def upgrade() -> None:
    op.create_table(
        "dashboard_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("grp", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), server_default="", nullable=False),
        sa.Column("subcategory", sa.String(length=96), server_default="", nullable=False),
        sa.Column("province", sa.String(length=8), server_default="", nullable=False),
        sa.Column("territory", sa.String(length=16), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="", nullable=False),
        sa.Column("verification", sa.String(length=20), server_default="", nullable=False),
        sa.Column("channel", sa.String(length=16), server_default="", nullable=False),
        sa.Column("language", sa.String(length=8), server_default="", nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _triggers()
    _fill()
    op.drop_index("ix_reports_dashboard", table_name="reports")
    op.create_index(
        "ix_reports_dashboard",
        "reports",
        ["created_at"],
        unique=False,
        postgresql_include=[*COUNTED, "assigned_org_id", "id"],
        postgresql_where=sa.text("duplicate_of_id IS NULL"),
        sqlite_where=sa.text("duplicate_of_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_reports_dashboard", table_name="reports")
    op.create_index(
        "ix_reports_dashboard",
        "reports",
        ["created_at"],
        unique=False,
        postgresql_include=COUNTED,
        postgresql_where=sa.text("duplicate_of_id IS NULL"),
        sqlite_where=sa.text("duplicate_of_id IS NULL"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for kind in (
        ("insert", "update", "delete", "truncate") if postgresql else ("insert", "update", "delete")
    ):
        op.execute(f"DROP TRIGGER reports_dashboard_{kind}" + (" ON reports" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION kuf_dashboard_counts()")
        op.execute("DROP FUNCTION kuf_dashboard_counts_row()")
    op.drop_table("dashboard_counts")
