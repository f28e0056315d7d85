from __future__ import annotations

import json

import pytest

from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime import events as ev


def test_beta_names_normalise_to_ga() -> None:
    event = ev.parse_server_event(
        json.dumps({"type": "response.audio_transcript.done", "response_id": "r", "item_id": "i", "transcript": "hi"})
    )
    assert isinstance(event, ev.AudioTranscriptDone)
    assert event.type == "response.output_audio_transcript.done"
    assert json.loads(event.to_json(beta=True))["type"] == "response.audio_transcript.done"
    assert json.loads(event.to_json())["type"] == "response.output_audio_transcript.done"


def test_extra_fields_are_kept() -> None:
    event = ev.parse_server_event(json.dumps({"type": "session.created", "session": {}, "brand_new": 1}))
    assert isinstance(event, ev.SessionCreated)
    assert json.loads(event.to_json())["brand_new"] == 1


def test_unknown_type_is_an_unknown_event() -> None:
    event = ev.parse_server_event('{"type": "mcp_list_tools.in_progress", "event_id": "e1"}')
    assert isinstance(event, ev.UnknownEvent)
    assert event.event_id == "e1"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "without a string 'type'"),
        ('{"type": 3}', "without a string 'type'"),
        ('{"type": "error"}', "Malformed 'error' event: error"),
        ('{"type": "response.done", "response": {}}', "response.id"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_malformed_events_raise_protocol_errors(raw: str | bytes, message: str) -> None:
    with pytest.raises(VoicePilotError) as error:
        ev.parse_server_event(raw)
    assert error.value.kind is ErrorKind.PROTOCOL
    assert message in error.value.message


def test_client_events_parse_on_the_engine_side() -> None:
    event = ev.parse_client_event('{"type": "conversation.item.create", "item": {"type": "function_call_output"}}')
    assert isinstance(event, ev.ConversationItemCreate)
    assert event.item["type"] == "function_call_output"
    assert isinstance(ev.parse_client_event('{"type": "response.create"}'), ev.ResponseCreate)


def test_every_modelled_type_round_trips_through_the_beta_names() -> None:
    for ga_type in ["response.output_text.delta", "response.output_audio.delta", "session.created"]:
        assert ev.to_ga_type(ev.to_beta_type(ga_type)) == ga_type
