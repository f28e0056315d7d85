"""The engine refuses the session.update shapes the service refuses, and takes the client's own."""

from __future__ import annotations

from typing import Any

import pytest

from voicepilot.contract.turn_detection import TurnDetection
from voicepilot.engine.session_checks import session_problem
from voicepilot.realtime.session_config import SessionConfig

EVERYTHING = SessionConfig(
    voice="verse",
    turn_detection=TurnDetection(idle_timeout_ms=6000),
    noise_reduction="near_field",
    transcription_language="en",
)


@pytest.mark.parametrize("flavor", ["ga", "preview"])
@pytest.mark.parametrize("transport", ["webrtc", "websocket", None])
@pytest.mark.parametrize("config", [SessionConfig(), EVERYTHING, SessionConfig(voice="cedar")])
def test_what_the_client_sends_is_accepted(flavor: Any, transport: Any, config: SessionConfig) -> None:
    assert session_problem(config.to_wire(flavor, transport), flavor) is None


@pytest.mark.parametrize(
    ("session", "flavor", "said"),
    [
        ({"voice": "marin"}, "preview", "Invalid value: 'marin'"),
        ({"audio": {"output": {"voice": "nobody"}}}, "ga", "Invalid value: 'nobody'"),
        ({"audio": {"output": {"voice": {"id": "nobody"}}}}, "ga", "Invalid value: 'nobody'"),
        ({"turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000}}, "preview", "idle_timeout_ms"),
        ({"input_audio_format": "audio/pcm"}, "preview", "Invalid value: 'audio/pcm'"),
        ({"audio": {"input": {"format": "pcm16"}}}, "ga", "session.audio.input.format"),
        ({"audio": {"output": {"format": {"type": "audio/pcm", "rate": 16000}}}}, "ga", "rate"),
    ],
)
def test_what_the_service_refuses_is_refused(session: dict[str, Any], flavor: Any, said: str) -> None:
    problem = session_problem(session, flavor)
    assert problem is not None
    assert said in problem
