"""What an exported report says: the full record for those who work on reports, and the
public-safe one (IPIS's rule: nothing a reporter wrote, no place finer than the territoire,
nothing recent). Neither has any trace of the reporter: no number, no hash, no reference to
type back on a phone in the public one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

FULL_COLUMNS = (
    "reference",
    "received_at",
    "channel",
    "language",
    "category",
    "category_label",
    "subcategory",
    "subcategory_label",
    "province",
    "province_name",
    "territory_pcode",
    "territory",
    "site",
    "occurred_on",
    "occurred_until",
    "details",
    "status",
    "verification",
    "assigned_to",
)
PUBLIC_COLUMNS = (
    "received_on",
    "category",
    "category_label",
    "subcategory",
    "subcategory_label",
    "province",
    "province_name",
    "territory_pcode",
    "territory",
    "occurred_on",
    "occurred_until",
    "status",
    "verification",
)


@dataclass(frozen=True)
class Names:
    """How codes read, in the exporter's language: looked up once per export, not per row."""

    category: Callable[[str], str]
    province: Callable[[str], str]
    territory: Callable[[str], str]
    organisations: Mapping[int, str]


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def full_record(row: Any, names: Names) -> dict[str, Any]:
    """A report as the API and the full export give it (``row``: the export query's columns)."""
    return {
        "reference": row.reference,
        "received_at": row.created_at.isoformat(),
        "channel": row.channel,
        "language": row.language,
        "category": row.category,
        "category_label": names.category(row.category) if row.category else None,
        "subcategory": row.subcategory,
        "subcategory_label": names.category(row.subcategory) if row.subcategory else None,
        "province": row.province_iso,
        "province_name": names.province(row.province_iso) if row.province_iso else None,
        "territory_pcode": row.territory_pcode,
        "territory": names.territory(row.territory_pcode) if row.territory_pcode else None,
        "site": row.site,
        "occurred_on": _date(row.occurred_on),
        "occurred_until": _date(row.occurred_until),
        "details": row.details,
        "status": row.status,
        "verification": row.verification,
        "assigned_to": names.organisations.get(row.assigned_org_id)
        if row.assigned_org_id
        else None,
    }


def public_record(row: Any, names: Names) -> dict[str, Any]:
    full = full_record(row, names)
    public = {name: full.get(name) for name in PUBLIC_COLUMNS}
    public["received_on"] = row.created_at.date().isoformat()
    return public
