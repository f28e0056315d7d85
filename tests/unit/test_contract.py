"""The editor contract: one definition in pydantic, mirrored in TypeScript."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from voicepilot.contract import models as contract
from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.contract.typescript import generate

CONTRACT_TS = Path(__file__).resolve().parents[2] / "extension" / "src" / "sidecar" / "contract.ts"


def test_typescript_mirror_is_current() -> None:
    assert CONTRACT_TS.read_text() == generate(), (
        "extension/src/sidecar/contract.ts is stale: run `voicepilot contract-ts > extension/src/sidecar/contract.ts`"
    )


def test_every_model_appears_in_typescript() -> None:
    text = CONTRACT_TS.read_text()
    for model in contract.CONTRACT_MODELS:
        assert f"export interface {model.__name__} {{" in text
        for field in model.model_fields.values():
            assert f"  {field.alias}" in text


def test_camel_case_on_the_wire() -> None:
    params = contract.ConnectionStateParams(state="connected", previous="connecting", session_id="s", error_kind=None)
    assert params.wire() == {"state": "connected", "previous": "connecting", "sessionId": "s"}


def test_input_is_a_discriminated_union() -> None:
    params = contract.StartSessionParams.model_validate(
        {"profile": "local", "input": {"kind": "file", "path": "a.wav"}}
    )
    assert isinstance(params.input, contract.FileInput)
    with pytest.raises(ValidationError):
        contract.StartSessionParams.model_validate({"profile": "local", "input": {"kind": "tape"}})


def test_editor_tools_are_valid_realtime_function_tools() -> None:
    names = [tool.name for tool in EDITOR_TOOLS]
    assert len(names) == len(set(names))
    for tool in EDITOR_TOOLS:
        assert tool.parameters["type"] == "object"
        assert set(tool.parameters["required"]) <= set(tool.parameters["properties"])


def test_the_documented_tool_shape_is_accepted_and_its_type_checked() -> None:
    from voicepilot.conversation.launch import session_config_for

    documented = {"type": "function", "name": "go_to_line", "description": "Go to a line.", "parameters": {}}
    flat = {"name": "save_all"}
    params = contract.StartSessionParams.model_validate({"profile": "local", "tools": [documented, flat]})
    assert [tool.type for tool in params.tools] == ["function", None]
    config = session_config_for(params)
    assert [tool["name"] for tool in config.tools] == ["go_to_line", "save_all"]
    for flavor in ("ga", "preview"):
        sent = config.to_wire(flavor)["tools"]
        assert [tool["type"] for tool in sent] == ["function", "function"]
        assert sent[0] == documented
    with pytest.raises(ValidationError, match="type"):
        contract.ToolSpec.model_validate(dict(documented, type="mcp"))
    with pytest.raises(ValidationError):
        contract.ToolSpec.model_validate(dict(documented, strict=True))  # unknown fields stay refused


def test_vad_settings_reach_the_session_config() -> None:
    from voicepilot.conversation.launch import session_config_for

    params = contract.StartSessionParams.model_validate(
        {"profile": "local", "vad": {"threshold": 0.7, "prefixPaddingMs": 200, "silenceDurationMs": 800}}
    )
    turn = session_config_for(params).turn_detection
    assert turn is not None
    assert (turn.threshold, turn.prefix_padding_ms, turn.silence_duration_ms) == (0.7, 200, 800)
    with pytest.raises(ValidationError):
        contract.StartSessionParams.model_validate({"profile": "local", "vad": {"threshold": 2}})
    push = contract.StartSessionParams.model_validate({"profile": "local", "turnTaking": "pushToTalk"})
    assert session_config_for(push).turn_detection is None


def test_a_device_state_report_goes_on_the_wire_as_device_state_params() -> None:
    from voicepilot.audio.voice import DeviceStateReport
    from voicepilot.conversation.wire import device_state_params
    from voicepilot.errors import ErrorKind

    gone = DeviceStateReport("input", "fallback", "active", "default", "The microphone went away.", ErrorKind.DEVICE)
    assert device_state_params(gone, "vp_1").wire() == {
        "sessionId": "vp_1",
        "kind": "input",
        "state": "fallback",
        "previous": "active",
        "device": "default",
        "message": "The microphone went away.",
        "errorKind": "device",
    }
    paused = DeviceStateReport("output", "paused", "fallback", None, "No speaker works.", ErrorKind.DEVICE)
    assert "device" not in device_state_params(paused).wire()
    assert contract.SIDECAR_NOTIFICATIONS[contract.DEVICE_STATE] is contract.DeviceStateParams
    with pytest.raises(ValidationError):
        contract.DeviceStateParams.model_validate(
            {"kind": "input", "state": "gone", "previous": "active", "message": ""}
        )


def test_the_session_managers_reports_go_on_the_wire_as_the_contracts_models() -> None:
    from voicepilot.conversation import wire
    from voicepilot.errors import ErrorKind
    from voicepilot.realtime.observer import LifecycleEvent, Notice, StateChange, ToolCall, Transcript

    failed = StateChange("failed", "connecting", "vp_1", "No route.", ErrorKind.NETWORK)
    assert wire.state_params(failed).wire() == {
        "state": "failed",
        "previous": "connecting",
        "reason": "No route.",
        "errorKind": "network",
        "sessionId": "vp_1",
    }
    assert "errorKind" not in wire.state_params(StateChange("connected", "connecting", "vp_1")).wire()
    heard = Transcript("user", "item_1", "go to line 12", True, "vp_1")
    assert wire.transcript_params(heard).wire() == {
        "role": "user",
        "itemId": "item_1",
        "text": "go to line 12",
        "final": True,
        "sessionId": "vp_1",
    }
    notice = wire.notice_params(Notice("vp_1", "Using the WebSocket transport.", ErrorKind.NETWORK))
    assert notice.wire() == {
        "sessionId": "vp_1",
        "message": "Using the WebSocket transport.",
        "errorKind": "network",
        "stats": {},
    }
    call = wire.tool_call_params(ToolCall("call_1", "go_to_line", "vp_1", {"line": 12}))
    assert call.wire() == {"callId": "call_1", "name": "go_to_line", "arguments": {"line": 12}, "sessionId": "vp_1"}
    renewed = wire.lifecycle_params(LifecycleEvent("key_renewed", {"expiresAt": 1.0}))
    assert renewed.wire() == {"message": "key_renewed", "stats": {"expiresAt": 1.0}}
