"""What every Africa's Talking endpoint shares: the callback token, the date format, and the
limits of the fields AT sends on more than one endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from services import current_services

from ..http import require_token

GATEWAY = "africastalking"
DATE_FORMATS = "'YYYY-MM-DDTHH:MM:SSZ' or 'YYYY-MM-DD HH:MM:SS' (UTC)"

# The columns these end up in (storage/models.py) are the limits.
PHONE = 32
NETWORK_CODE = 16
SERVICE_CODE = 64
DATE = 40


def check_callback_token() -> None:
    """Every AT endpoint's ``before_request``: AT does not sign its callbacks, so with
    ``gateways.africastalking.callback_token`` set, a request must carry ``?token=<it>``."""
    require_token(current_services().settings.gateways.africastalking.callback_token)


def parse_date(value: str) -> datetime:
    """AT's timestamp (``2017-05-03T06:04:45Z`` or ``2017-05-03 06:04:45``, UTC) as an aware
    datetime; ``ValueError`` when it is not one."""
    value = value.strip()
    if len(value) < len("2017-05-03 06:04:45"):
        raise ValueError(value)  # a date alone is not a timestamp
    found = datetime.fromisoformat(value)  # 3.11 reads both "...T...Z" and "... ..."
    try:
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 has no UTC time
        raise ValueError(value) from exc
