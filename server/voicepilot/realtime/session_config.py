"""The session configuration, and its two wire shapes (GA nested, preview flat).

The client builds ``session.update`` payloads with :meth:`SessionConfig.to_wire`; the engine reads
them back with :meth:`SessionConfig.merge_wire`. Keeping both directions here means the two ends
cannot disagree about where a field lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from voicepilot.contract.turn_detection import TurnDetection
from voicepilot.realtime.voices import voice_for

Flavor = Literal["ga", "preview"]
OutputModality = Literal["audio", "text"]
NoiseReduction = Literal["near_field", "far_field"]
# The transports' audio: WebRTC's is Opus, negotiated in the SDP, so the session declares no format;
# a WebSocket carries base64 PCM16 at 24 kHz mono, declared in both directions.
Transport = Literal["webrtc", "websocket"]
GA_PCM_FORMAT = {"type": "audio/pcm", "rate": 24000}
PREVIEW_PCM_FORMAT = "pcm16"

DEFAULT_INSTRUCTIONS = (
    "You are VoicePilot, a voice assistant inside a code editor. Keep spoken answers short. "
    "Use the editor's tools to act on the user's requests."
)


@dataclass(frozen=True)
class SessionConfig:
    model: str = "gpt-realtime"
    instructions: str = DEFAULT_INSTRUCTIONS
    # None: the flavour's default voice (GA marin, preview alloy); one it lacks becomes that default.
    voice: str | None = None
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)
    transcription_model: str | None = "whisper-1"
    tools: tuple[dict[str, Any], ...] = ()
    # "text": replies in text only (a text-only conversation); "audio": spoken, with a transcript.
    output_modality: OutputModality = "audio"
    # None: the service's default (off for GA and preview alike).
    noise_reduction: NoiseReduction | None = None
    # An ISO-639-1 code ("en") helps the transcription; None lets the model detect the language.
    transcription_language: str | None = None

    def to_wire(self, flavor: Flavor, transport: Transport | None = None) -> dict[str, Any]:
        """The ``session`` object of a ``session.update`` (``transport`` known) or of a key-mint body."""
        turn = self.turn_detection.to_wire(flavor) if self.turn_detection else None
        transcription: dict[str, Any] | None = None
        if self.transcription_model:
            transcription = {"model": self.transcription_model}
            if self.transcription_language:
                transcription["language"] = self.transcription_language
        noise = {"type": self.noise_reduction} if self.noise_reduction else None
        tools = [dict(tool, type="function") for tool in self.tools]
        voice = voice_for(flavor, self.voice)
        websocket = transport == "websocket"
        if flavor == "preview":
            wire: dict[str, Any] = {
                "model": self.model,
                "modalities": ["text"] if self.output_modality == "text" else ["audio", "text"],
                "instructions": self.instructions,
                "voice": voice,
                "turn_detection": turn,
                "input_audio_transcription": transcription,
                "input_audio_noise_reduction": noise,
                "tools": tools,
                "tool_choice": "auto",
            }
            if websocket:
                wire.update(input_audio_format=PREVIEW_PCM_FORMAT, output_audio_format=PREVIEW_PCM_FORMAT)
            return wire
        audio_in: dict[str, Any] = {"turn_detection": turn, "transcription": transcription, "noise_reduction": noise}
        audio_out: dict[str, Any] = {"voice": voice}
        if websocket:
            audio_in["format"] = dict(GA_PCM_FORMAT)
            audio_out["format"] = dict(GA_PCM_FORMAT)
        return {
            "type": "realtime",
            "model": self.model,
            "output_modalities": [self.output_modality],
            "instructions": self.instructions,
            "audio": {"input": audio_in, "output": audio_out},
            "tools": tools,
            "tool_choice": "auto",
        }

    def merge_wire(self, session: dict[str, Any], flavor: Flavor) -> SessionConfig:
        """Apply a ``session.update`` payload: only the fields present change (as the service does)."""
        changes: dict[str, Any] = {}
        if flavor == "preview":
            audio_in: dict[str, Any] = session
            voice_holder: dict[str, Any] = session
            turn_key, transcription_key = "turn_detection", "input_audio_transcription"
            noise_key = "input_audio_noise_reduction"
        else:
            audio = session.get("audio") or {}
            audio_in = audio.get("input") or {}
            voice_holder = audio.get("output") or {}
            turn_key, transcription_key = "turn_detection", "transcription"
            noise_key = "noise_reduction"
        if "model" in session:
            changes["model"] = str(session["model"])
        modalities = session.get("modalities" if flavor == "preview" else "output_modalities")
        if isinstance(modalities, list) and modalities:
            changes["output_modality"] = "audio" if "audio" in modalities else "text"
        if "instructions" in session:
            changes["instructions"] = str(session["instructions"])
        if "voice" in voice_holder:
            voice = voice_holder["voice"]
            changes["voice"] = str(voice["id"] if isinstance(voice, dict) else voice)
        if turn_key in audio_in:
            turn = audio_in[turn_key]
            changes["turn_detection"] = TurnDetection.from_wire(turn) if turn else None
        if transcription_key in audio_in:
            transcription = audio_in[transcription_key]
            changes["transcription_model"] = transcription.get("model") if transcription else None
            changes["transcription_language"] = transcription.get("language") if transcription else None
        if noise_key in audio_in:
            noise = audio_in[noise_key]
            changes["noise_reduction"] = noise.get("type") if isinstance(noise, dict) else None
        if "tools" in session:
            changes["tools"] = tuple(
                {k: v for k, v in tool.items() if k != "type"}
                for tool in session["tools"] or []
                if isinstance(tool, dict) and tool.get("type", "function") == "function"
            )
        return replace(self, **changes)
