"""The service's clock, as seen from this machine: key lifetimes and session ends in local time.

A key's ``expires_at`` and a session's are the service's Unix times. Compared with a local clock
that runs ahead, a 60-second key looks expired on arrival (and renewal would mint in a tight loop).
So every mint answer's HTTP ``Date`` header gives the offset between the two clocks, erring
towards an early expiry, and service times are converted with it before any comparison.
"""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

DATE_RESOLUTION_S = 1.0  # an HTTP date has whole seconds
# How long a service session lasts when the service announces no end (session.created with no
# expires_at): the profiles' documented limits.
SESSION_BACKSTOP_S = {"azure": 30 * 60.0, "openai": 60 * 60.0}
REPORTED_SKEW_S = 5.0


def parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class ServiceClock:
    def __init__(self) -> None:
        # Service time minus local time, from the last answer that carried a Date header.
        self.offset_s = 0.0
        self.measured = False

    def observe(self, date_header: str | None, sent_at: float) -> None:
        """An answer's ``Date``; ``sent_at`` is the local time its request left.

        The service read its clock between ``sent_at`` and now, and truncated it to the second:
        taking it as a second later, at ``sent_at``, overestimates the offset, so expiries come early.
        """
        served = parse_http_date(date_header)
        if served is None:
            return
        offset = served + DATE_RESOLUTION_S - sent_at
        if abs(offset) >= REPORTED_SKEW_S and (not self.measured or abs(offset - self.offset_s) >= 1):
            log.warning("this machine's clock is %.0f s off the service's; timing keys by the service's", -offset)
        self.offset_s = offset
        self.measured = True

    def to_local(self, service_time: float) -> float:
        return service_time - self.offset_s


def backstop_end(profile: str, opened_unix: float) -> float | None:
    """When a session of ``profile`` opened at ``opened_unix`` ends if the service announces no end
    (None for the local engine, whose limit is announced when it has one)."""
    length = SESSION_BACKSTOP_S.get(profile)
    return None if length is None else opened_unix + length
