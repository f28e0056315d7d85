"""Typed text: the user item, the text-only session shapes, and the engine reading typed commands."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voicepilot.contract.models import SendTextParams, StartSessionParams
from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.conversation.launch import session_config_for
from voicepilot.engine.speech.grammar import CommandGrammar, ToolCall
from voicepilot.errors import VoicePilotError
from voicepilot.realtime.session_config import SessionConfig
from voicepilot.realtime.typed_text import new_text_item_id, user_text_event

TOOLS = [tool.wire() for tool in EDITOR_TOOLS]


def test_a_typed_message_is_a_user_input_text_item() -> None:
    item_id = new_text_item_id()
    assert len(item_id) <= 32  # the service's limit for item ids
    event = user_text_event("  go to line 5 \n", item_id)
    assert event.to_json(beta=False) == event.to_json(beta=True)  # one shape for GA and preview
    assert event.item == {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "go to line 5"}],
    }


def test_a_blank_message_is_refused() -> None:
    with pytest.raises(VoicePilotError):
        user_text_event(" \t", new_text_item_id())


def test_send_text_params_bound_the_text() -> None:
    assert SendTextParams.model_validate({"text": "hi"}).text == "hi"
    for bad in ("", "x" * 4097):
        with pytest.raises(ValidationError):
            SendTextParams.model_validate({"text": bad})


def test_text_only_session_shapes() -> None:
    config = SessionConfig(output_modality="text", turn_detection=None)
    assert config.to_wire("ga")["output_modalities"] == ["text"]
    assert config.to_wire("preview")["modalities"] == ["text"]
    voice = SessionConfig()
    assert voice.to_wire("ga")["output_modalities"] == ["audio"]
    assert voice.to_wire("preview")["modalities"] == ["audio", "text"]
    for flavor in ("ga", "preview"):
        assert SessionConfig().merge_wire(config.to_wire(flavor), flavor).output_modality == "text"
        assert config.merge_wire(voice.to_wire(flavor), flavor).output_modality == "audio"


def test_a_text_modality_session_detects_no_turns_and_asks_for_text() -> None:
    config = session_config_for(StartSessionParams.model_validate({"profile": "local", "modality": "text"}))
    assert config.output_modality == "text"
    assert config.turn_detection is None
    voice = session_config_for(StartSessionParams.model_validate({"profile": "local"}))
    assert voice.output_modality == "audio"
    assert voice.turn_detection is not None


@pytest.mark.parametrize(
    ("typed", "call"),
    [
        ("go to line 5", ToolCall("go_to_line", {"line": 5})),
        ("Go to line 42.", ToolCall("go_to_line", {"line": 42})),
        ("please go to line five!", ToolCall("go_to_line", {"line": 5})),
        ("save all", ToolCall("save_all", {})),
        ("what is the weather", None),
        ("go to line 5000", None),
        ("", None),
    ],
)
def test_the_engine_reads_typed_commands(typed: str, call: ToolCall | None) -> None:
    assert CommandGrammar.from_tools(TOOLS).parse_typed(typed) == call
