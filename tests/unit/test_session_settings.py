"""Each session setting's wire shape, GA and preview: formats, VAD kinds, noise, transcription, voices."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from voicepilot.contract.models import SpeechSettings, StartSessionParams
from voicepilot.contract.turn_detection import TurnDetection
from voicepilot.conversation.launch import session_config_for
from voicepilot.realtime.session_config import SessionConfig
from voicepilot.realtime.voices import GA_VOICES, PREVIEW_VOICES, voice_for


def audio_in(wire: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = wire["audio"]["input"]
    return result


def test_a_websocket_session_declares_pcm16_at_24_khz_both_ways() -> None:
    ga = SessionConfig().to_wire("ga", "websocket")
    assert audio_in(ga)["format"] == {"type": "audio/pcm", "rate": 24000}
    assert ga["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    preview = SessionConfig().to_wire("preview", "websocket")
    assert (preview["input_audio_format"], preview["output_audio_format"]) == ("pcm16", "pcm16")


@pytest.mark.parametrize("transport", ["webrtc", None])
def test_webrtc_and_key_mints_declare_no_format(transport: Any) -> None:
    """WebRTC's audio is Opus by the SDP; a mint does not know the transport yet."""
    ga = SessionConfig().to_wire("ga", transport)
    assert "format" not in audio_in(ga)
    assert "format" not in ga["audio"]["output"]
    preview = SessionConfig().to_wire("preview", transport)
    assert "input_audio_format" not in preview
    assert "output_audio_format" not in preview


@pytest.mark.parametrize("flavor", ["ga", "preview"])
def test_semantic_vad_sends_its_eagerness_and_no_server_vad_fields(flavor: Any) -> None:
    config = SessionConfig(turn_detection=TurnDetection(kind="semantic_vad", eagerness="high", idle_timeout_ms=6000))
    wire = config.to_wire(flavor)
    turn = audio_in(wire)["turn_detection"] if flavor == "ga" else wire["turn_detection"]
    assert turn == {"type": "semantic_vad", "eagerness": "high", "create_response": True, "interrupt_response": True}
    assert SessionConfig().merge_wire(wire, flavor).turn_detection == TurnDetection(
        kind="semantic_vad", eagerness="high"
    )


def test_the_idle_timeout_is_sent_on_ga_only() -> None:
    config = SessionConfig(turn_detection=TurnDetection(idle_timeout_ms=8000))
    ga_turn = audio_in(config.to_wire("ga"))["turn_detection"]
    assert ga_turn["type"] == "server_vad"
    assert ga_turn["idle_timeout_ms"] == 8000
    assert "idle_timeout_ms" not in config.to_wire("preview")["turn_detection"]
    assert "idle_timeout_ms" not in audio_in(SessionConfig().to_wire("ga"))["turn_detection"]
    assert SessionConfig().merge_wire(config.to_wire("ga"), "ga").turn_detection == config.turn_detection


def test_noise_reduction_shapes() -> None:
    config = SessionConfig(noise_reduction="far_field")
    assert audio_in(config.to_wire("ga"))["noise_reduction"] == {"type": "far_field"}
    assert config.to_wire("preview")["input_audio_noise_reduction"] == {"type": "far_field"}
    assert audio_in(SessionConfig().to_wire("ga"))["noise_reduction"] is None
    assert SessionConfig().to_wire("preview")["input_audio_noise_reduction"] is None
    for flavor in ("ga", "preview"):
        assert SessionConfig().merge_wire(config.to_wire(flavor), flavor).noise_reduction == "far_field"  # type: ignore[arg-type]


def test_transcription_model_and_language_shapes() -> None:
    config = SessionConfig(transcription_model="gpt-4o-transcribe", transcription_language="de")
    expected = {"model": "gpt-4o-transcribe", "language": "de"}
    assert audio_in(config.to_wire("ga"))["transcription"] == expected
    assert config.to_wire("preview")["input_audio_transcription"] == expected
    assert audio_in(SessionConfig().to_wire("ga"))["transcription"] == {"model": "whisper-1"}  # no language: detected
    for flavor in ("ga", "preview"):
        merged = SessionConfig().merge_wire(config.to_wire(flavor), flavor)  # type: ignore[arg-type]
        assert (merged.transcription_model, merged.transcription_language) == ("gpt-4o-transcribe", "de")


def test_each_flavour_gets_a_voice_it_has() -> None:
    assert SessionConfig().to_wire("ga")["audio"]["output"]["voice"] == "marin"
    assert SessionConfig().to_wire("preview")["voice"] == "alloy"
    assert SessionConfig(voice="cedar").to_wire("preview")["voice"] == "alloy"
    assert SessionConfig(voice="verse").to_wire("preview")["voice"] == "verse"
    assert set(PREVIEW_VOICES) < set(GA_VOICES)
    assert {"marin", "cedar"} == set(GA_VOICES) - set(PREVIEW_VOICES)
    assert voice_for("ga", "nobody") == "marin"


def test_speech_settings_reach_the_session_config() -> None:
    params = StartSessionParams.model_validate(
        {
            "profile": "local",
            "speech": {
                "turnDetection": "semantic_vad",
                "eagerness": "low",
                "noiseReduction": "near_field",
                "transcriptionModel": "gpt-4o-mini-transcribe",
                "transcriptionLanguage": "en",
            },
        }
    )
    config = session_config_for(params)
    assert config.turn_detection == TurnDetection(kind="semantic_vad", eagerness="low")
    assert config.noise_reduction == "near_field"
    assert (config.transcription_model, config.transcription_language) == ("gpt-4o-mini-transcribe", "en")
    defaults = session_config_for(StartSessionParams.model_validate({"profile": "local"}))
    assert defaults == SessionConfig(model=defaults.model, tools=defaults.tools)


@pytest.mark.parametrize(
    "bad",
    [
        {"idleTimeoutMs": 1000},
        {"idleTimeoutMs": 40000},
        {"eagerness": "eager"},
        {"noiseReduction": "studio"},
        {"transcriptionLanguage": "English"},
        {"transcriptionModel": "a b"},
        {"turnDetection": "none"},
    ],
)
def test_speech_settings_out_of_range_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SpeechSettings.model_validate(bad)
