"""``GET /reports/export.<csv|xlsx|jsonl>?<the inbox's filter>[&public=1]``: the filtered inbox,
streamed. The response starts with the first batch and holds at most one batch of rows: an
export of a million reports keeps memory flat (bench/analysis.py measures it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flask import Response, abort, request, stream_with_context
from flask_login import current_user

from exports.records import FULL_COLUMNS, PUBLIC_COLUMNS, Names, full_record, public_record
from exports.writers import MIMETYPES, WRITERS
from services import current_services
from storage import queries

from .. import taxonomy
from ..db import db
from ..filtering import filter_form, inbox_filter, visibility_for
from ..identity import login_required
from ..permissions import can_export


def names(organisations: dict[int, str]) -> Names:
    """Codes as they read in the request's language, looked up once for the whole export."""
    labels = dict(taxonomy.labels())
    provinces = {place.code: place.name for place in taxonomy.provinces()}
    territories = {place.code: place.name for place in taxonomy.territories()}
    return Names(
        category=lambda code: labels.get(code, code),
        province=lambda code: provinces.get(code, code),
        territory=lambda code: territories.get(code, code),
        organisations=organisations,
    )


@login_required
def download(fmt: str) -> Response:
    if fmt not in WRITERS:
        abort(404)
    public = request.args.get("public") == "1"
    if not can_export(current_user, public=public):
        abort(403)
    session = db()
    organisations = queries.organisation_names(session)
    selection = inbox_filter(filter_form(organisations, request.args))
    visibility = visibility_for(current_user)
    services = current_services()
    received_before = None
    if public:
        delay = timedelta(days=services.settings.exports.public_delay_days)
        received_before = services.clock.now() - delay
    named = names(organisations)
    record = public_record if public else full_record
    columns = PUBLIC_COLUMNS if public else FULL_COLUMNS

    def records() -> Iterator[dict[str, Any]]:
        # A session of its own: the request's is closed when the handler returns, and the
        # rows are read while the response streams; a reading one, whose statements may take
        # longer than a hop's (each batch of a million reports' cursor).
        with services.db.reading() as reading:
            for row in queries.selected_reports(
                reading, selection, visibility, received_before=received_before
            ):
                yield record(row, named)

    stamp = services.clock.local_today().isoformat()
    name = f"kufatilia-{'public-' if public else ''}reports-{stamp}.{fmt}"
    return Response(
        stream_with_context(WRITERS[fmt](records(), columns)),
        content_type=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
