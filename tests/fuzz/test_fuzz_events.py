"""The realtime event parser: whatever arrives gives a typed event, an UnknownEvent, or a PROTOCOL
error; never another exception (a malformed event is counted and ignored, never ends a call)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import json_values, objects_with
from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime import events as ev

PARSERS = {"server": ev.parse_server_event, "client": ev.parse_client_event}
KNOWN_TYPES = sorted(
    {t.model_fields["type"].default for t in (*ev.ServerEvent.__args__, *ev.ClientEvent.__args__)}
    | {ev.to_beta_type(t) for t in ev._SERVER_TYPES}
)
# Every field any event model declares, so generated events get past their first field.
FIELDS = sorted({name for model in (*ev.ServerEvent.__args__, *ev.ClientEvent.__args__) for name in model.model_fields})


def check(parse: Any, raw: str | bytes) -> ev.Event | None:
    refused: VoicePilotError | None = None
    try:
        event = parse(raw)
    except VoicePilotError as error:
        refused = error
    if refused is not None:
        assert refused.kind is ErrorKind.PROTOCOL
        assert refused.message
        return None
    assert isinstance(event, ev.Event)
    return event


event_objects = st.builds(
    lambda kind, body: {**body, "type": kind},
    st.sampled_from(KNOWN_TYPES),
    objects_with(FIELDS),
)


@pytest.mark.parametrize("side", PARSERS)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_any_bytes_or_text(side: str, raw: str | bytes) -> None:
    check(PARSERS[side], raw)


@pytest.mark.parametrize("side", PARSERS)
@given(value=json_values)
def test_any_json_value(side: str, value: Any) -> None:
    check(PARSERS[side], json.dumps(value))


@pytest.mark.parametrize("side", PARSERS)
@given(payload=event_objects)
def test_objects_shaped_like_events(side: str, payload: dict[str, Any]) -> None:
    event = check(PARSERS[side], json.dumps(payload))
    if event is None:
        return
    # A known type is parsed into its model (beta names become GA names), or kept as unknown.
    assert event.type == ev.to_ga_type(payload["type"])
    if not isinstance(event, ev.UnknownEvent):
        # What parsed serialises and parses again to the same event (fields set to null are left out).
        again = PARSERS[side](event.to_json())
        assert type(again) is type(event)
        assert again.model_dump(exclude_none=True) == event.model_dump(exclude_none=True)


@given(payload=event_objects, raw_bytes=st.booleans())
def test_bytes_and_text_agree(payload: dict[str, Any], raw_bytes: bool) -> None:
    text = json.dumps(payload)
    as_text, as_bytes = check(ev.parse_server_event, text), check(ev.parse_server_event, text.encode())
    assert (as_text is None) == (as_bytes is None)
    if as_text is not None and as_bytes is not None:
        assert as_text.model_dump() == as_bytes.model_dump()
