"""The JSON-RPC contract between the editor and the sidecar, typed once.

Every payload that crosses stdio is one of these pydantic models (camelCase on the wire).
``extension/src/contract.ts`` is generated from this module by ``voicepilot contract-ts``
and a test fails when the two drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from voicepilot.contract.turn_detection import IDLE_TIMEOUT_MS_RANGE, Eagerness, TurnDetection, VadKind


class WireModel(BaseModel):
    """Base for every contract payload: camelCase aliases, unknown fields refused, and validation
    errors that do not quote the input (it may be a key sent in the wrong field)."""

    # defer_build: each validator is built on first use, not at import (the sidecar's start).
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        hide_input_in_errors=True,
        defer_build=True,
    )

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict as it goes on the wire (aliases, no unset optionals)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def error_message(error: ErrorDetails) -> str:
    """A validation error's message without the input it quotes (a union's tag, for one)."""
    text = error["msg"]
    for quoted in (error.get("input"), (error.get("ctx") or {}).get("tag")):
        if isinstance(quoted, str) and len(quoted) >= 4 and quoted in text:
            text = text.replace(quoted, "…")
    return text


# ---------------------------------------------------------------- method names

START_SESSION = "voicepilot/startSession"
END_SESSION = "voicepilot/endSession"
PUSH_TO_TALK = "voicepilot/pushToTalk"
SET_CREDENTIALS = "voicepilot/setCredentials"
RUN_DIAGNOSTICS = "voicepilot/runDiagnostics"
CONNECTION_STATE = "voicepilot/connectionState"
TRANSCRIPT = "voicepilot/transcript"
DIAGNOSTICS = "voicepilot/diagnostics"
RUN_TOOL = "voicepilot/runTool"
LIST_DEVICES = "voicepilot/listDevices"
SELECT_DEVICES = "voicepilot/selectDevices"
SET_MUTE = "voicepilot/setMute"
AUDIO_LEVEL = "voicepilot/audioLevel"
DEVICE_STATE = "voicepilot/deviceState"
SEND_TEXT = "voicepilot/sendText"

Profile = Literal["local", "azure", "openai"]
Mode = Literal["conversation", "dictation"]
# How the conversation is carried: speech both ways, or typed text in and text out (no audio device).
Modality = Literal["voice", "text"]
ConnectionStateName = Literal[
    "idle", "authenticating", "connecting", "connected", "renewing", "reconnecting", "failed", "closed"
]
ErrorKindName = Literal["auth", "quota", "network", "media", "device", "protocol", "config"]
Role = Literal["user", "assistant"]
ApiFlavor = Literal["ga", "preview"]
# How turns end: the service's voice activity detection, or the user releasing push-to-talk.
TurnTaking = Literal["vad", "pushToTalk"]
DeviceKindName = Literal["input", "output"]
# active: the chosen device (the system default when none is chosen) works. fallback: the chosen one
# failed or went away, and another (the default) is used. paused: none works; VoicePilot keeps trying.
DeviceStateName = Literal["active", "fallback", "paused"]


# ---------------------------------------------------------------- editor -> sidecar


class DeviceInput(WireModel):
    kind: Literal["device"]
    name: str | None = None


MAX_FILE_SECONDS = 600.0


class FileInput(WireModel):
    kind: Literal["file"]
    path: str = Field(min_length=1)
    # Longer files are refused from their header, before any decoding (voicepilot.input.maxFileSeconds).
    max_seconds: float = Field(default=MAX_FILE_SECONDS, gt=0, le=86400)


AudioInput = Annotated[DeviceInput | FileInput, Field(discriminator="kind")]


class DeviceOutput(WireModel):
    kind: Literal["device"]
    name: str | None = None


class NoOutput(WireModel):
    kind: Literal["none"]


AudioOutput = Annotated[DeviceOutput | NoOutput, Field(discriminator="kind")]


class ToolSpec(WireModel):
    """A function tool the editor carries out (the Realtime API's flat function-tool shape).

    ``type`` may be given as the API documents it (``"function"``, the only kind the editor
    carries out); any other type is refused. It is always sent as ``"function"``."""

    type: Literal["function"] | None = None
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


IcePolicy = Literal["all", "relay"]


class IceServerSetting(WireModel):
    """One entry of ``voicepilot.connection.iceServers``: STUN or TURN URLs and the TURN user name
    (its password comes from the editor's secret storage, never from a setting)."""

    urls: list[str] = Field(min_length=1, max_length=8)
    username: str | None = None


class ConnectionSettings(WireModel):
    """Where to connect. Every field is optional: the profile supplies the defaults."""

    endpoint: str | None = None
    deployment: str | None = None
    api_version: str | None = None
    api_flavor: ApiFlavor | None = None
    region: str | None = None
    renew_interval_s: float | None = Field(default=None, ge=1, le=3000)
    max_session_s: float | None = Field(default=None, ge=2, le=7200)
    transport: Literal["auto", "webrtc", "websocket"] | None = None
    auth: Literal["apiKey", "entra"] | None = None
    allowed_regions: list[str] | None = None
    voice: str | None = None
    instructions: str | None = None
    ice_servers: list[IceServerSetting] | None = Field(default=None, max_length=8)
    ice_transport_policy: IcePolicy | None = None
    # VS Code's http.proxy (it may carry user:password, which is redacted from then on).
    proxy: str | None = None


class VadSettings(WireModel):
    """server_vad parameters (the service's semantics; see the README for the local engine's).
    The defaults are the session configuration's, so an editor that sends none gets the same."""

    threshold: float = Field(default=TurnDetection.threshold, ge=0, le=1)
    prefix_padding_ms: int = Field(default=TurnDetection.prefix_padding_ms, ge=0, le=2000)
    silence_duration_ms: int = Field(default=TurnDetection.silence_duration_ms, ge=100, le=5000)


# ---------------------------------------------------------------- speech settings


class SpeechSettings(WireModel):
    """How the service hears the user: the kind of turn detection, noise reduction, transcription.
    Values are the Realtime API's; each is sent in the shape of the session's API flavour."""

    # server_vad: a turn ends after a silence (``vad``); semantic_vad: when the model judges it has.
    turn_detection: VadKind = "server_vad"
    eagerness: Eagerness = "auto"
    # server_vad on GA: ask for a response after this long without speech (the preview API has none).
    idle_timeout_ms: int | None = Field(default=None, ge=IDLE_TIMEOUT_MS_RANGE[0], le=IDLE_TIMEOUT_MS_RANGE[1])
    noise_reduction: Literal["near_field", "far_field"] | None = None
    transcription_model: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    # ISO-639-1 (``en``, ``pt-BR``); none: the model detects the language.
    transcription_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class StartSessionParams(WireModel):
    profile: Profile
    input: AudioInput | None = None
    # Where the assistant's voice goes. Default: the speaker for device input, nowhere for a file.
    output: AudioOutput | None = None
    turn_taking: TurnTaking = "vad"
    vad: VadSettings | None = None
    # Let the user interrupt the assistant by speaking (VAD). Off, the microphone is muted while the
    # assistant speaks, so its voice cannot come back through the microphone (no headset).
    barge_in: bool = False
    # With barge-in, a device microphone and a device speaker: take the assistant's voice out of the
    # microphone's signal (acoustic echo cancellation), so it does not interrupt itself without a headset.
    echo_cancellation: bool = True
    mode: Mode = "conversation"
    tools: list[ToolSpec] = Field(default_factory=list)
    connection: ConnectionSettings | None = None
    # Typed text (voicepilot/sendText) works in both; "text" opens no audio device and asks for text replies.
    modality: Modality = "voice"
    speech: SpeechSettings | None = None


class StartSessionResult(WireModel):
    session_id: str


class EndSessionParams(WireModel):
    session_id: str | None = None


class EndSessionResult(WireModel):
    ended: bool


class PushToTalkParams(WireModel):
    pressed: bool


class PushToTalkResult(WireModel):
    accepted: bool


class SetMuteParams(WireModel):
    muted: bool


class SetMuteResult(WireModel):
    muted: bool


class AudioDevice(WireModel):
    name: str
    description: str
    host_api: str
    channels: int
    sample_rate: int
    is_default: bool


class ListDevicesParams(WireModel):
    pass


class ListDevicesResult(WireModel):
    inputs: list[AudioDevice]
    outputs: list[AudioDevice]
    # The remembered choices (by name); omitted: the system default.
    selected_input: str | None = None
    selected_output: str | None = None


class SelectDevicesParams(WireModel):
    """A device name for each kind to change; ``""`` means the system default; omitted: unchanged."""

    input: str | None = None
    output: str | None = None


class SelectDevicesResult(WireModel):
    selected_input: str | None = None
    selected_output: str | None = None


class SetCredentialsParams(WireModel):
    """``apiKey: null`` forgets the key (VoicePilot: Clear API Key)."""

    api_key: str | None = Field(min_length=1)
    # The TURN servers' password (VoicePilot: Set TURN Password); omitted: none (it replaces the last one).
    turn_credential: str | None = Field(default=None, min_length=1)


class SetCredentialsResult(WireModel):
    stored: bool


class RunDiagnosticsParams(WireModel):
    """What to probe when no conversation is running: the editor's current profile and settings
    (default: the last conversation's, else the local engine)."""

    profile: Profile | None = None
    connection: ConnectionSettings | None = None


class DiagnosticCheck(WireModel):
    name: str
    ok: bool
    detail: str
    next_step: str | None = None


class RunDiagnosticsResult(WireModel):
    checks: list[DiagnosticCheck]


# ---------------------------------------------------------------- sidecar -> editor


class ConnectionStateParams(WireModel):
    state: ConnectionStateName
    previous: ConnectionStateName
    reason: str | None = None
    error_kind: ErrorKindName | None = None
    session_id: str | None = None


class TranscriptParams(WireModel):
    role: Role
    item_id: str
    text: str
    final: bool
    session_id: str | None = None


class DiagnosticsParams(WireModel):
    session_id: str | None = None
    message: str | None = None
    error_kind: ErrorKindName | None = None
    stats: dict[str, float] = Field(default_factory=dict)
    # The fences around library internals: "active", or "fallback: <reason>" when the library's stock
    # (slower) behaviour is in use (audio/aiortc_hooks.py, audio/pyaec_hooks.py). Omitted when unused.
    aiortc_hooks: str | None = None
    pyaec_hooks: str | None = None


class RunToolParams(WireModel):
    call_id: str
    name: str
    arguments: dict[str, Any]
    session_id: str | None = None


class RunToolResult(WireModel):
    output: str


class AudioLevelParams(WireModel):
    """Input and output levels (loudest 20 ms RMS since the last report), at most 10 a second."""

    session_id: str | None = None
    input_dbfs: float
    output_dbfs: float
    mic_open: bool
    muted: bool
    assistant_speaking: bool
    # The devices in use; omitted while one is paused (it failed and none could replace it).
    input_device: str | None = None
    output_device: str | None = None


class DeviceStateParams(WireModel):
    """The microphone (``input``) or the speaker (``output``) changed state.

    Sent on every change during a session (none at its start: a session starts ``active``): a device
    that failed or went away (``fallback`` or ``paused``, ``errorKind: "device"``), and its recovery
    (the device came back, a paused one works again, or the user chose another: ``active``).
    """

    session_id: str | None = None
    kind: DeviceKindName
    state: DeviceStateName
    previous: DeviceStateName
    # The device in use now; omitted while paused.
    device: str | None = None
    # What happened and what VoicePilot does about it, for a person.
    message: str
    # "device" when a device failed or went away; omitted for a recovery.
    error_kind: ErrorKindName | None = None


# ---------------------------------------------------------------- typed text

MAX_TEXT_CHARS = 4096


class SendTextParams(WireModel):
    """A typed message from the user: a user turn in the conversation, answered like a spoken one."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    session_id: str | None = None


class SendTextResult(WireModel):
    # False when no session is connected (nothing was sent).
    accepted: bool


# ---------------------------------------------------------------- the catalogue

# method -> (params model, result model or None for a notification)
EDITOR_REQUESTS: dict[str, tuple[type[WireModel], type[WireModel]]] = {
    START_SESSION: (StartSessionParams, StartSessionResult),
    END_SESSION: (EndSessionParams, EndSessionResult),
    PUSH_TO_TALK: (PushToTalkParams, PushToTalkResult),
    SET_CREDENTIALS: (SetCredentialsParams, SetCredentialsResult),
    RUN_DIAGNOSTICS: (RunDiagnosticsParams, RunDiagnosticsResult),
    LIST_DEVICES: (ListDevicesParams, ListDevicesResult),
    SELECT_DEVICES: (SelectDevicesParams, SelectDevicesResult),
    SET_MUTE: (SetMuteParams, SetMuteResult),
    SEND_TEXT: (SendTextParams, SendTextResult),
}
SIDECAR_NOTIFICATIONS: dict[str, type[WireModel]] = {
    CONNECTION_STATE: ConnectionStateParams,
    TRANSCRIPT: TranscriptParams,
    DIAGNOSTICS: DiagnosticsParams,
    AUDIO_LEVEL: AudioLevelParams,
    DEVICE_STATE: DeviceStateParams,
}
SIDECAR_REQUESTS: dict[str, tuple[type[WireModel], type[WireModel]]] = {
    RUN_TOOL: (RunToolParams, RunToolResult),
}

CONTRACT_MODELS: tuple[type[WireModel], ...] = (
    DeviceInput,
    FileInput,
    DeviceOutput,
    NoOutput,
    ToolSpec,
    IceServerSetting,
    ConnectionSettings,
    VadSettings,
    SpeechSettings,
    StartSessionParams,
    StartSessionResult,
    EndSessionParams,
    EndSessionResult,
    PushToTalkParams,
    PushToTalkResult,
    SetMuteParams,
    SetMuteResult,
    AudioDevice,
    ListDevicesParams,
    ListDevicesResult,
    SelectDevicesParams,
    SelectDevicesResult,
    SetCredentialsParams,
    SetCredentialsResult,
    RunDiagnosticsParams,
    DiagnosticCheck,
    RunDiagnosticsResult,
    ConnectionStateParams,
    TranscriptParams,
    DiagnosticsParams,
    RunToolParams,
    RunToolResult,
    AudioLevelParams,
    DeviceStateParams,
    SendTextParams,
    SendTextResult,
)
