"""dashboard: the kept counts answer filters on status, verification, channel and language

Revision ID: b8e3f1a9c2d6
Revises: a5d2e8c4f1b7
Create Date: 2026-11-25 23:00:00

The kept counts' rows become: (status, verification, channel, language) with the category and
sub-category (grp 0), with the province and territoire (grp 1), both over all time, and alone by
UTC month received (grp 2). Only the month chart needs the month, and the four small dimensions
together have at most 5 x 4 x 2 x 3 = 120 values: at a million reports some 40,000 rows, as many
as before, and any filter on those four is answered by the rows that match it. The triggers are
written again for this layout and the table counted again (``_install``); downgrade puts back
the layout of a5d2e8c4f1b7.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = "b8e3f1a9c2d6"
down_revision: str | None = "a5d2e8c4f1b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = [
    "category", "subcategory", "province_iso", "territory_pcode",
    "status", "verification", "channel", "language",
]
WATCHED = ["created_at", "duplicate_of_id", *COUNTED]
COLUMNS = [
    "month", "grp", "category", "subcategory", "province", "territory",
    "status", "verification", "channel", "language",
]
KEY = ", ".join(COLUMNS)
PG_MONTH = "to_char({r}.created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
SQLITE_MONTH = "strftime('%Y-%m', {r}.created_at)"
E = "''"


def _c(column: str) -> str:
    return f"coalesce({{r}}.{column}, '')"


SMALL = [_c("status"), _c("verification"), _c("channel"), _c("language")]
# Each layout: a report ``{r}``'s rows, month first ("{month}": its UTC month).
BY_STATUS = [
    [E, "0", _c("category"), _c("subcategory"), E, E, *SMALL],
    [E, "1", E, E, _c("province_iso"), _c("territory_pcode"), *SMALL],
    ["{month}", "2", E, E, E, E, *SMALL],
]
FIRST = [  # a5d2e8c4f1b7's
    ["{month}", "0", _c("category"), _c("subcategory"), E, E, E, E, E, E],
    ["{month}", "1", E, E, _c("province_iso"), _c("territory_pcode"), E, E, E, E],
    ["{month}", "2", E, E, E, E, *SMALL],
]


def _values(layout: list[list[str]], r: str, month: str) -> list[list[str]]:
    return [[v.format(month=month.format(r=r), r=r) for v in row] for row in layout]


def _pg_rows(layout: list[list[str]], table: str, sign: int) -> str:
    rows = ", ".join("(" + ", ".join(row) + ")" for row in _values(layout, "r", PG_MONTH))
    return (
        f"SELECT g.*, {sign} AS n FROM {table} r CROSS JOIN LATERAL (VALUES {rows}) "
        f"AS g({KEY}) WHERE r.duplicate_of_id IS NULL"
    )


def _insert(*parts: str) -> str:
    return (
        f"INSERT INTO dashboard_counts ({KEY}, n) SELECT {KEY}, sum(n) "
        f"FROM ({' UNION ALL '.join(parts)}) AS d GROUP BY {KEY} HAVING sum(n) <> 0"
    )


def _sqlite_rows(layout: list[list[str]], row: str, sign: int) -> list[str]:
    return [
        "SELECT "
        + ", ".join(f"{v} AS {c}" for v, c in zip(values, COLUMNS, strict=True))
        + f", {sign} AS n WHERE {row}.duplicate_of_id IS NULL"
        for values in _values(layout, row, SQLITE_MONTH)
    ]


def _uninstall() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for kind in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER reports_dashboard_{kind} ON reports")
        op.execute("DROP FUNCTION kuf_dashboard_counts()")
        op.execute("DROP FUNCTION kuf_dashboard_counts_row()")
    else:
        for kind in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER reports_dashboard_{kind}")
    op.execute("DELETE FROM dashboard_counts")


def _install(layout: list[list[str]]) -> None:
    """The triggers for ``layout`` (as a5d2e8c4f1b7 made them), then the reports counted."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION kuf_dashboard_counts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_insert(_pg_rows(layout, "new_rows", 1))};
                ELSIF TG_OP = 'DELETE' THEN
                    {_insert(_pg_rows(layout, "old_rows", -1))};
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
        old_row = _pg_rows(layout, "(SELECT OLD.*)", -1)
        new_row = _pg_rows(layout, "(SELECT NEW.*)", 1)
        op.execute(
            f"""
            CREATE FUNCTION kuf_dashboard_counts_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_insert(old_row, new_row)};
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
        # Counted with the triggers in place, whose lock keeps writers out until this commits.
        op.execute(_insert(_pg_rows(layout, "reports", 1)))
        return
    op.execute(
        "CREATE TRIGGER reports_dashboard_insert AFTER INSERT ON reports "
        f"BEGIN {_insert(*_sqlite_rows(layout, 'NEW', 1))}; END"
    )
    op.execute(
        f"CREATE TRIGGER reports_dashboard_update AFTER UPDATE OF {', '.join(WATCHED)} ON reports "
        f"WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in WATCHED)} "
        f"BEGIN {_insert(*_sqlite_rows(layout, 'OLD', -1), *_sqlite_rows(layout, 'NEW', 1))}; END"
    )
    op.execute(
        "CREATE TRIGGER reports_dashboard_delete AFTER DELETE ON reports "
        f"BEGIN {_insert(*_sqlite_rows(layout, 'OLD', -1))}; END"
    )
    groups = " UNION ALL ".join(
        "SELECT "
        + ", ".join(f"{v} AS {c}" for v, c in zip(values, COLUMNS, strict=True))
        + " FROM reports r WHERE r.duplicate_of_id IS NULL"
        for values in _values(layout, "r", SQLITE_MONTH)
    )
    op.execute(
        f"INSERT INTO dashboard_counts ({KEY}, n) "
        f"SELECT {KEY}, count(*) FROM ({groups}) GROUP BY {KEY}"
    )


def upgrade() -> None:
    _uninstall()
    _install(BY_STATUS)


def downgrade() -> None:
    _uninstall()
    _install(FIRST)
