"""The session's and the audio's own reports as editor wire models.

The session manager and the audio layer report in their own types; the sidecar sends these models
to the editor and ``voicepilot talk`` prints them, so both say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict

from voicepilot.audio.devices import Device
from voicepilot.audio.voice import DeviceStateReport
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


def _kind(kind: ErrorKind | None) -> ErrorKindName | None:
    return kind.value if kind is not None else None


def state_params(change: StateChange) -> ConnectionStateParams:
    return ConnectionStateParams(
        state=change.state,
        previous=change.previous,
        reason=change.reason,
        error_kind=_kind(change.error_kind),
        session_id=change.session_id,
    )


def transcript_params(transcript: Transcript) -> TranscriptParams:
    return TranscriptParams(
        role=transcript.role,
        item_id=transcript.item_id,
        text=transcript.text,
        final=transcript.final,
        session_id=transcript.session_id,
    )


def notice_params(notice: Notice) -> DiagnosticsParams:
    return DiagnosticsParams(session_id=notice.session_id, message=notice.message, error_kind=_kind(notice.error_kind))


def lifecycle_params(event: LifecycleEvent) -> DiagnosticsParams:
    return DiagnosticsParams(message=event.kind, stats=event.fields)


def tool_call_params(call: ToolCall) -> RunToolParams:
    return RunToolParams(call_id=call.call_id, name=call.name, arguments=call.arguments, session_id=call.session_id)


def device_state_params(report: DeviceStateReport, session_id: str | None = None) -> DeviceStateParams:
    """A device's state change as the contract's ``voicepilot/deviceState`` payload."""
    fields = asdict(report)
    fields["error_kind"] = _kind(report.error_kind)
    return DeviceStateParams(session_id=session_id, **fields)


def wire_device(device: Device) -> AudioDevice:
    return AudioDevice(
        name=device.name,
        description=device.description,
        host_api=device.host_api,
        channels=device.channels,
        sample_rate=device.sample_rate,
        is_default=device.is_default,
    )
