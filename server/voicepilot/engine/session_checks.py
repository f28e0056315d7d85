"""The engine refuses a ``session.update`` the service would refuse: a voice the API flavour lacks,
a GA-only field on the preview API, an audio format the transport does not take.

The service answers such an update with ``error {type: invalid_request_error, code: invalid_value}``
and keeps the session as it was; the engine does the same, so a client sending a wrong shape
fails its tests instead of working against the engine only.
"""

from __future__ import annotations

from typing import Any

from voicepilot.realtime.session_config import GA_PCM_FORMAT, PREVIEW_PCM_FORMAT, Flavor
from voicepilot.realtime.voices import voices_of

_PREVIEW_FORMATS = (PREVIEW_PCM_FORMAT, "g711_ulaw", "g711_alaw")
_GA_FORMAT_TYPES = ("audio/pcm", "audio/pcmu", "audio/pcma")


def session_problem(session: dict[str, Any], flavor: Flavor) -> str | None:
    """Why the service would refuse this ``session`` object, or None."""
    if flavor == "preview":
        voice = session.get("voice")
        turn = session.get("turn_detection")
        formats = [session.get("input_audio_format"), session.get("output_audio_format")]
        bad_formats = [f for f in formats if f is not None and f not in _PREVIEW_FORMATS]
        if bad_formats:
            return f"Invalid value: '{bad_formats[0]}'. Supported values are: {', '.join(_PREVIEW_FORMATS)}."
        if isinstance(turn, dict) and "idle_timeout_ms" in turn:
            return "Unknown parameter: 'session.turn_detection.idle_timeout_ms'."
    else:
        audio = session.get("audio") or {}
        audio_in, audio_out = audio.get("input") or {}, audio.get("output") or {}
        voice = audio_out.get("voice")
        if isinstance(voice, dict):
            voice = voice.get("id")
        for where, holder in (("input", audio_in), ("output", audio_out)):
            problem = _ga_format_problem(holder.get("format"), where)
            if problem is not None:
                return problem
    if voice is not None and voice not in voices_of(flavor):
        return f"Invalid value: '{voice}'. Supported values are: {', '.join(voices_of(flavor))}."
    return None


def _ga_format_problem(audio_format: Any, where: str) -> str | None:
    if audio_format is None:
        return None
    if not isinstance(audio_format, dict) or audio_format.get("type") not in _GA_FORMAT_TYPES:
        return f"Invalid value for 'session.audio.{where}.format': expected one of {', '.join(_GA_FORMAT_TYPES)}."
    if audio_format["type"] == "audio/pcm" and audio_format.get("rate", GA_PCM_FORMAT["rate"]) != GA_PCM_FORMAT["rate"]:
        return f"Invalid value for 'session.audio.{where}.format.rate': only {GA_PCM_FORMAT['rate']} is supported."
    return None
