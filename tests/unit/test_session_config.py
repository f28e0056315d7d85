from __future__ import annotations

import pytest

from voicepilot.contract.turn_detection import TurnDetection
from voicepilot.realtime.session_config import SessionConfig

TOOLS = ({"name": "go_to_line", "description": "d", "parameters": {"type": "object", "properties": {}}},)


@pytest.mark.parametrize("flavor", ["ga", "preview"])
@pytest.mark.parametrize("turn", [TurnDetection(threshold=0.7, silence_duration_ms=300), None])
def test_wire_round_trip(flavor: str, turn: TurnDetection | None) -> None:
    config = SessionConfig(instructions="be brief", voice="verse", turn_detection=turn, tools=TOOLS)
    wire = config.to_wire(flavor)  # type: ignore[arg-type]
    assert SessionConfig().merge_wire(wire, flavor) == config  # type: ignore[arg-type]


def test_ga_shape_is_nested_and_typed() -> None:
    wire = SessionConfig(tools=TOOLS).to_wire("ga")
    assert wire["type"] == "realtime"
    assert wire["audio"]["output"]["voice"] == "marin"
    assert wire["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert wire["tools"][0]["type"] == "function"
    assert "voice" not in wire


def test_preview_shape_is_flat() -> None:
    wire = SessionConfig().to_wire("preview")
    assert wire["voice"] == "alloy"  # marin is GA-only
    assert wire["turn_detection"]["silence_duration_ms"] == 500
    assert "type" not in wire


def test_merge_changes_only_what_is_present() -> None:
    base = SessionConfig(instructions="keep me", tools=TOOLS)
    merged = base.merge_wire({"audio": {"input": {"turn_detection": None}}}, "ga")
    assert merged.turn_detection is None
    assert merged.instructions == "keep me"
    assert merged.tools == TOOLS
