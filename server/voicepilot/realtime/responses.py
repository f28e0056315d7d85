"""Response sequencing for one service session: when the client may ask for a response.

The service runs one response at a time and refuses a ``response.create`` during one
(``conversation_already_has_active_response``). Tool outputs go back as each tool finishes; one
``response.create`` follows once the response that carried the calls is done and every call has
its output. Own requests carry an ``event_id`` (errors echo it) and metadata (``response.created``
echoes it), so a refused one is accounted for and sent again after the next ``response.done``.
Pure bookkeeping: methods return the :class:`ResponseCreate` to send, the caller sends it.
:func:`failure_of` classifies a failed or incomplete response for the user.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime import events as ev

REQUEST_TAG = "voicepilot_request"
# Statuses after which the calls of a response get no follow-up: the user interrupted, or it broke.
NO_FOLLOW_UP = frozenset({"cancelled", "failed"})
_numbers = itertools.count(1)
# What an error meant for own requests: none of them; one refused or failed; one whose response
# had been guessed (no metadata echo) and was in fact the service's own.
ErrorOutcome = Literal["other", "own", "misattributed"]


@dataclass
class _Carrier:
    """A response that carried function calls, and what it still waits for."""

    calls: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    done: bool = False

    @property
    def ready(self) -> bool:
        return self.done and self.calls <= self.outputs


class ResponseSequencer:
    def __init__(self) -> None:
        self.active: str | None = None
        self._own: dict[str, None] = {}  # event ids of own requests not yet answered, oldest first
        self._echoes_metadata = False  # learnt from the first own response.created that carried the tag
        self._guessed: dict[str, str] = {}  # request event id -> response taken for its answer, untagged
        self._carriers: dict[str, _Carrier] = {}
        self._owed = 0  # response.create requests due once no response is active
        self._names: dict[str, str] = {}  # function call names by item id and by call id
        self.refused = 0

    @property
    def own_requests(self) -> int:
        return len(self._own)

    @property
    def busy(self) -> bool:
        """Something is still to come: a response, an own request's answer, a follow-up."""
        waiting = any(not c.ready for c in self._carriers.values())
        return self.active is not None or bool(self._own) or self._owed > 0 or waiting

    # ------------------------------------------------------------------ function calls

    def note_item(self, item: dict[str, Any]) -> None:
        """``response.output_item.added``: remember a call's name (preview servers omit it later)."""
        name = item.get("name")
        if item.get("type") == "function_call" and isinstance(name, str) and name:
            for key in (item.get("id"), item.get("call_id")):
                if isinstance(key, str):
                    self._names[key] = name

    def name_of(self, item_id: str | None, call_id: str, given: str | None) -> str:
        return given or self._names.get(item_id or "") or self._names.get(call_id, "")

    def add_call(self, call_id: str, response_id: str | None) -> None:
        if response_id is not None:
            self._carriers.setdefault(response_id, _Carrier()).calls.add(call_id)

    def output_sent(self, call_id: str) -> ev.ResponseCreate | None:
        """A call's output went back (or could not): a follow-up may now be due."""
        for carrier in self._carriers.values():
            if call_id in carrier.calls:
                carrier.outputs.add(call_id)
        return self._collect()

    # ------------------------------------------------------------------ responses

    def request(self) -> ev.ResponseCreate | None:
        """Ask for a response (push-to-talk release): now, or after the active one is done."""
        self._owed += 1
        return self._next()

    def on_response_created(self, response: ev.ResponseInfo) -> bool:
        """Returns whether the response answers an own request."""
        self.active = response.id
        tag = (response.metadata or {}).get(REQUEST_TAG)
        if isinstance(tag, str) and tag in self._own:
            self._echoes_metadata = True
            del self._own[tag]
            return True
        if self._own and not self._echoes_metadata:
            # A service that does not echo metadata: the oldest request is the likeliest answered;
            # an error for it later (see on_error) corrects the guess.
            oldest = next(iter(self._own))
            del self._own[oldest]
            self._guessed[oldest] = response.id
            return True
        return False

    def on_response_done(self, response: ev.ResponseInfo) -> ev.ResponseCreate | None:
        if self.active == response.id:
            self.active = None
        self._guessed = {request: guess for request, guess in self._guessed.items() if guess != response.id}
        carrier = self._carriers.get(response.id)
        if carrier is not None:
            if response.status in NO_FOLLOW_UP:
                del self._carriers[response.id]
            else:
                carrier.done = True
        return self._collect()

    def on_error(self, error: ev.ErrorDetail) -> ErrorOutcome:
        """Account for an error about an own request (a refused one is owed again, and goes after
        the next ``response.done``)."""
        event_id = error.event_id
        refused = error.code == ev.ACTIVE_RESPONSE_CODE
        if event_id is None and refused:
            # A service that does not echo event ids: the oldest request is the one refused.
            event_id = next(iter(self._own), None) or next(iter(self._guessed), None)
        outcome: ErrorOutcome
        if event_id is not None and event_id in self._own:
            del self._own[event_id]
            outcome = "own"
        elif event_id is not None and event_id in self._guessed:
            del self._guessed[event_id]
            outcome = "misattributed"
        else:
            return "other"
        if refused:
            self.refused += 1
            self._owed += 1
        return outcome

    def forget(self, request: ev.ResponseCreate) -> None:
        """A request that could not be sent at all (the connection is gone)."""
        self._own.pop(request.event_id or "", None)

    # ------------------------------------------------------------------ internals

    def _collect(self) -> ev.ResponseCreate | None:
        for response_id, carrier in list(self._carriers.items()):
            if carrier.ready:
                del self._carriers[response_id]
                self._owed += 1
        return self._next()

    def _next(self) -> ev.ResponseCreate | None:
        # One request at a time, and never during a response: the service would refuse it.
        if self._owed == 0 or self.active is not None or self._own:
            return None
        self._owed = 0  # several follow-ups owed at once are answered by one response
        event_id = f"vp_create_{next(_numbers)}"
        self._own[event_id] = None
        return ev.ResponseCreate(event_id=event_id, response={"metadata": {REQUEST_TAG: event_id}})


_QUOTA_CODES = frozenset({"insufficient_quota", "quota_exceeded"})
_RATE_CODES = frozenset({"rate_limit_exceeded", "rate_limit", "too_many_requests"})


def failure_of(response: ev.ResponseInfo) -> VoicePilotError | None:
    """A failed or incomplete ``response.done`` as a classified error, with the service's message
    (None for completed and cancelled responses: an interruption is no failure)."""
    if response.status not in ("failed", "incomplete"):
        return None
    details = response.status_details or {}
    found = details.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or error.get("type") or details.get("reason") or "")
    said = str(error.get("message") or "").strip()
    quoted = f" The service said: {said}" if said else ""
    if code in _QUOTA_CODES:
        return VoicePilotError(ErrorKind.QUOTA, f"The reply failed: the deployment is out of quota.{quoted}", code=code)
    if code in _RATE_CODES:
        return VoicePilotError(
            ErrorKind.QUOTA,
            f"The reply failed: the service's rate limit was reached.{quoted}",
            next_step="Wait a few seconds and speak again, or raise the deployment's rate limit.",
            code=code,
        )
    if code == "content_filter":
        return VoicePilotError(
            ErrorKind.PROTOCOL,
            f"The reply was stopped by the service's content filter.{quoted}",
            next_step="Rephrase the request.",
            code=code,
        )
    if response.status == "incomplete":
        return VoicePilotError(
            ErrorKind.CONFIG,
            f"The reply was cut short ({code or 'incomplete'}).{quoted}",
            next_step="Ask again, or allow longer replies (max output tokens).",
            code=code or "incomplete",
        )
    return VoicePilotError(
        ErrorKind.MEDIA, f"The reply failed on the service's side ({code or 'server error'}).{quoted}", code=code
    )
