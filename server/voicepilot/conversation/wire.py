"""The session's and the audio's own reports as editor wire models.

The session manager and the audio layer report in their own types; the sidecar sends these models
to the editor and ``voicepilot talk`` prints them, so both say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from voicepilot.contract.models import (
    AudioDevice,
    ConnectionStateParams,
    DeviceStateParams,
    DiagnosticsParams,
    ErrorKindName,
    RunToolParams,
    TranscriptParams,
)
from voicepilot.errors import ErrorKind
from voicepilot.realtime.observer import LifecycleEvent, Notice, StateChange, ToolCall, Transcript

if TYPE_CHECKING:  # audio.voice brings av and numpy, which the sidecar imports only for a session
    from voicepilot.audio.devices import Device
    from voicepilot.audio.voice import DeviceStateReport


def _kind(kind: ErrorKind | None) -> ErrorKindName | None:
    return kind.value if kind is not None else None


def _fields(report: StateChange | Transcript | Notice | ToolCall | DeviceStateReport) -> dict[str, Any]:
    """A report's fields by the contract's names (which they share), its error kind by value."""
    fields = asdict(report)
    if "error_kind" in fields:
        fields["error_kind"] = _kind(fields["error_kind"])
    return fields


def state_params(change: StateChange) -> ConnectionStateParams:
    return ConnectionStateParams(**_fields(change))


def transcript_params(transcript: Transcript) -> TranscriptParams:
    return TranscriptParams(**_fields(transcript))


def notice_params(notice: Notice) -> DiagnosticsParams:
    return DiagnosticsParams(**_fields(notice))


def lifecycle_params(event: LifecycleEvent) -> DiagnosticsParams:
    return DiagnosticsParams(message=event.kind, stats=event.fields)


def tool_call_params(call: ToolCall) -> RunToolParams:
    return RunToolParams(**_fields(call))


def device_state_params(report: DeviceStateReport, session_id: str | None = None) -> DeviceStateParams:
    """A device's state change as the contract's ``voicepilot/deviceState`` payload."""
    return DeviceStateParams(session_id=session_id, **_fields(report))


def wire_device(device: Device) -> AudioDevice:
    return AudioDevice(
        name=device.name,
        description=device.description,
        host_api=device.host_api,
        channels=device.channels,
        sample_rate=device.sample_rate,
        is_default=device.is_default,
    )
