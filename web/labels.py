"""Words for the codes the platform stores (roles, statuses, ...), in the reader's language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

ROLE_LABELS: dict[str, LazyString] = {
    "coordinator": _l("Coordinator"),
    "org_admin": _l("Organisation admin"),
    "analyst": _l("Analyst"),
    "viewer": _l("Viewer"),
}
STATUS_LABELS: dict[str, LazyString] = {
    "new": _l("New"),
    "monitoring": _l("Being monitored"),
    "resolved": _l("Resolved"),
    "persistent": _l("Persistent"),
    "closed": _l("Closed"),
}
VERIFICATION_LABELS: dict[str, LazyString] = {
    "unverified": _l("Unverified"),
    "verified": _l("Verified"),
    "could_not_verify": _l("Could not verify"),
    "false_report": _l("False report"),
}
CLOSE_REASON_LABELS: dict[str, LazyString] = {
    "duplicate": _l("Duplicate"),
    "not_actionable": _l("Not actionable"),
    "out_of_scope": _l("Out of scope"),
}
ACTION_LABELS: dict[str, LazyString] = {
    "referral": _l("Referral"),
    "dialogue": _l("Dialogue"),
    "advocacy": _l("Advocacy"),
    "awareness": _l("Awareness-raising"),
    "paralegal": _l("Paralegal support"),
    "empowerment": _l("Empowerment"),
    "other": _l("Other"),
}
CHANNEL_LABELS: dict[str, LazyString] = {"ussd": _l("USSD"), "sms": _l("SMS")}
FIELD_LABELS: dict[str, LazyString] = {
    "category": _l("Category"),
    "subcategory": _l("Sub-category"),
    "province_iso": _l("Province"),
    "territory_pcode": _l("Territoire"),
    "site": _l("Site or village"),
    "occurred_on": _l("Date"),
    "details": _l("Details"),
    # What the editor's simulator shows a confirmation would store, besides the answers.
    "tree_id": _l("Tree"),
    "tree_version": _l("Menu version"),
    "language": _l("Language"),
}


def _lookup(table: dict[str, LazyString], code: str | None) -> str:
    if code is None:
        return ""
    found = table.get(code)
    return str(found) if found is not None else code


def role_label(code: str | None) -> str:
    return _lookup(ROLE_LABELS, code)


def status_label(code: str | None) -> str:
    return _lookup(STATUS_LABELS, code)


def verification_label(code: str | None) -> str:
    return _lookup(VERIFICATION_LABELS, code)


def close_reason_label(code: str | None) -> str:
    return _lookup(CLOSE_REASON_LABELS, code)


def action_label(code: str | None) -> str:
    return _lookup(ACTION_LABELS, code)


def channel_label(code: str | None) -> str:
    return _lookup(CHANNEL_LABELS, code)


def field_label(code: str | None) -> str:
    return _lookup(FIELD_LABELS, code)


TEMPLATE_FUNCTIONS = {
    f.__name__: f
    for f in (
        role_label,
        status_label,
        verification_label,
        close_reason_label,
        action_label,
        channel_label,
        field_label,
    )
}
