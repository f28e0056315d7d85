"""The session configuration, and its two wire shapes (GA nested, preview flat).

The client builds ``session.update`` payloads with :meth:`SessionConfig.to_wire`; the engine reads
them back with :meth:`SessionConfig.merge_wire`. Keeping both directions here means the two ends
cannot disagree about where a field lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from voicepilot.contract.turn_detection import TurnDetection

Flavor = Literal["ga", "preview"]
OutputModality = Literal["audio", "text"]

DEFAULT_INSTRUCTIONS = (
    "You are VoicePilot, a voice assistant inside a code editor. Keep spoken answers short. "
    "Use the editor's tools to act on the user's requests."
)


@dataclass(frozen=True)
class SessionConfig:
    model: str = "gpt-realtime"
    instructions: str = DEFAULT_INSTRUCTIONS
    voice: str = "marin"
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)
    transcription_model: str | None = "whisper-1"
    tools: tuple[dict[str, Any], ...] = ()
    # "text": replies in text only (a text-only conversation); "audio": spoken, with a transcript.
    output_modality: OutputModality = "audio"

    def to_wire(self, flavor: Flavor) -> dict[str, Any]:
        """The ``session`` object of a ``session.update`` (or of a key-mint body)."""
        turn = self.turn_detection.to_wire() if self.turn_detection else None
        transcription = {"model": self.transcription_model} if self.transcription_model else None
        tools = [dict(tool, type="function") for tool in self.tools]
        if flavor == "preview":
            return {
                "model": self.model,
                "modalities": ["text"] if self.output_modality == "text" else ["audio", "text"],
                "instructions": self.instructions,
                "voice": self.voice,
                "turn_detection": turn,
                "input_audio_transcription": transcription,
                "tools": tools,
                "tool_choice": "auto",
            }
        return {
            "type": "realtime",
            "model": self.model,
            "output_modalities": [self.output_modality],
            "instructions": self.instructions,
            "audio": {
                "input": {"turn_detection": turn, "transcription": transcription},
                "output": {"voice": self.voice},
            },
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
        else:
            audio = session.get("audio") or {}
            audio_in = audio.get("input") or {}
            voice_holder = audio.get("output") or {}
            turn_key, transcription_key = "turn_detection", "transcription"
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
        if "tools" in session:
            changes["tools"] = tuple(
                {k: v for k, v in tool.items() if k != "type"}
                for tool in session["tools"] or []
                if isinstance(tool, dict) and tool.get("type", "function") == "function"
            )
        return replace(self, **changes)
