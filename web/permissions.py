"""Who may do what: one function per decision, used by the handler (which refuses) and by the
template (which then offers only what is allowed). Hiding a button is never the check.

Roles: ``coordinator`` (the whole network), ``org_admin`` (their organisation's users and
assignments, plus analyst rights), ``analyst`` (triage, correct, verify, follow up, forward),
``viewer`` (read only). Every decision on a report first asks whether the actor may see it.
"""

from __future__ import annotations

from services import current_services
from storage.queries import ReportScope

from .config import WebSettings
from .identity import Actor

COORDINATOR, ORG_ADMIN, ANALYST, VIEWER = "coordinator", "org_admin", "analyst", "viewer"
WORKERS = frozenset({COORDINATOR, ORG_ADMIN, ANALYST})

__all__ = ["ReportScope"]  # re-exported: handlers and tests build decisions from it


def web_settings() -> WebSettings:
    return current_services().settings.web


def in_area_and_expertise(actor: Actor, report: ReportScope) -> bool:
    """An empty area means everywhere, an empty expertise every category."""
    in_area = (not actor.provinces and not actor.territories) or (
        report.province_iso in actor.provinces or report.territory_pcode in actor.territories
    )
    in_expertise = not actor.categories or report.category in actor.categories
    return in_area and in_expertise


def can_view_report(actor: Actor, report: ReportScope) -> bool:
    if actor.role == COORDINATOR or web_settings().visibility == "pooled":
        return True
    return (
        report.assigned_org_id == actor.organisation_id
        or actor.organisation_id in report.forwarded_to
        or in_area_and_expertise(actor, report)
    )


def _can_work_on(actor: Actor, report: ReportScope) -> bool:
    return actor.role in WORKERS and can_view_report(actor, report)


def can_correct(actor: Actor, report: ReportScope) -> bool:
    return _can_work_on(actor, report)


def can_verify(actor: Actor, report: ReportScope) -> bool:
    return _can_work_on(actor, report)


def can_change_status(actor: Actor, report: ReportScope) -> bool:
    return _can_work_on(actor, report)


def can_record_action(actor: Actor, report: ReportScope) -> bool:
    return _can_work_on(actor, report)


def can_forward(actor: Actor, report: ReportScope) -> bool:
    return _can_work_on(actor, report)


def can_merge(actor: Actor, report: ReportScope) -> bool:
    """Marking a report as a duplicate of another: the caller checks both reports."""
    return _can_work_on(actor, report)


def can_message_reporter(actor: Actor, report: ReportScope) -> bool:
    """Only the coordinator or the admin of the organisation the report is assigned to: a message
    can put a reporter at risk, so few people may send one."""
    if not can_view_report(actor, report):
        return False
    if actor.role == COORDINATOR:
        return True
    return actor.role == ORG_ADMIN and report.assigned_org_id == actor.organisation_id


def can_bulk_edit(actor: Actor) -> bool:
    """Offer the bulk form at all; each selected report is then checked with can_forward or
    can_change_status."""
    return actor.role in WORKERS


def can_export(actor: Actor, *, public: bool) -> bool:
    """Anyone who reads reports may export the public-safe version of what they see (no details,
    no site, territoire at most, nothing recent); the full version, with what reporters wrote,
    only those who work on the reports."""
    return public or actor.role in WORKERS


def can_manage_organisations(actor: Actor) -> bool:
    return actor.role == COORDINATOR


def can_manage_users(actor: Actor, organisation_id: int) -> bool:
    """Create, edit, disable the users of ``organisation_id``."""
    return actor.role == COORDINATOR or (
        actor.role == ORG_ADMIN and actor.organisation_id == organisation_id
    )


def can_see_admin(actor: Actor) -> bool:
    return actor.role in (COORDINATOR, ORG_ADMIN)


def can_give_role(actor: Actor, role: str) -> bool:
    """An org admin may appoint org admins, analysts and viewers; only the coordinator appoints
    coordinators."""
    if actor.role == COORDINATOR:
        return True
    return actor.role == ORG_ADMIN and role != COORDINATOR


def can_edit_user(actor: Actor, user_id: int, organisation_id: int, role: str) -> bool:
    """Nobody edits or disables themselves (no locking oneself out); an org admin never touches
    a coordinator."""
    return (
        user_id != actor.id
        and can_manage_users(actor, organisation_id)
        and can_give_role(actor, role)
    )


def can_edit_menus(actor: Actor) -> bool:
    """The menu editor (trees, versions, publish, simulator): the coordinator, and the org admins
    the coordinator allows."""
    return actor.role == COORDINATOR or (actor.role == ORG_ADMIN and actor.menu_editor)


def can_allow_menu_editors(actor: Actor) -> bool:
    return actor.role == COORDINATOR


# The names templates may call; registered as Jinja globals by web/__init__.py.
TEMPLATE_FUNCTIONS = {
    f.__name__: f
    for f in (
        can_view_report,
        can_correct,
        can_verify,
        can_change_status,
        can_record_action,
        can_forward,
        can_merge,
        can_message_reporter,
        can_bulk_edit,
        can_export,
        can_manage_organisations,
        can_manage_users,
        can_see_admin,
        can_give_role,
        can_edit_user,
        can_edit_menus,
        can_allow_menu_editors,
    )
}
