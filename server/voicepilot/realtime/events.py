"""Realtime API events, typed once for both ends of the wire.

The client (session manager) and the local engine share these models. GA names are canonical;
preview (beta) sessions use a handful of older names, translated at the edge by
:func:`to_ga_type` / :func:`to_beta_type`, so the rest of the code only ever sees GA names.

Models are permissive about extra fields (``extra="allow"``): the service adds fields over time and
a client that refused them would break for no reason. Required fields are the ones the code reads.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from voicepilot.contract.models import error_message
from voicepilot.errors import VoicePilotError, protocol_error

# Beta name -> GA name. Everything not listed is the same in both.
_BETA_TO_GA = {
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
}
_GA_TO_BETA = {ga: beta for beta, ga in _BETA_TO_GA.items()}
# GA-only events that a preview session never sees.
GA_ONLY_TYPES = frozenset({"conversation.item.added", "conversation.item.done"})
# The audio the WebSocket carries both ways (input_audio_buffer.append, response.output_audio.delta):
# base64 PCM16 mono at this rate.
WEBSOCKET_PCM_RATE = 24_000
# The error code of a response.create refused because a response is already active.
ACTIVE_RESPONSE_CODE = "conversation_already_has_active_response"


def to_ga_type(event_type: str) -> str:
    return _BETA_TO_GA.get(event_type, event_type)


def to_beta_type(event_type: str) -> str:
    return _GA_TO_BETA.get(event_type, event_type)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class Event(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str
    event_id: str | None = None

    def to_json(self, beta: bool = False) -> str:
        payload = self.model_dump(mode="json", exclude_none=True)
        if beta:
            payload["type"] = to_beta_type(self.type)
        return json.dumps(payload, separators=(",", ":"))


# ------------------------------------------------------------------------- shared pieces


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "invalid_request_error"
    code: str | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None


class ResponseInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: str = "realtime.response"
    status: str = "in_progress"
    status_details: dict[str, Any] | None = None
    output: list[dict[str, Any]] = Field(default_factory=list)
    usage: dict[str, Any] | None = None
    # Echoed from response.create: how a client tells its own responses from the service's.
    metadata: dict[str, Any] | None = None


# ------------------------------------------------------------------------- server events


class SessionCreated(Event):
    type: Literal["session.created"] = "session.created"
    session: dict[str, Any]


class SessionUpdated(Event):
    type: Literal["session.updated"] = "session.updated"
    session: dict[str, Any]


class ErrorEvent(Event):
    type: Literal["error"] = "error"
    error: ErrorDetail


class SpeechStarted(Event):
    type: Literal["input_audio_buffer.speech_started"] = "input_audio_buffer.speech_started"
    audio_start_ms: int
    item_id: str


class SpeechStopped(Event):
    type: Literal["input_audio_buffer.speech_stopped"] = "input_audio_buffer.speech_stopped"
    audio_end_ms: int
    item_id: str


class InputCommitted(Event):
    type: Literal["input_audio_buffer.committed"] = "input_audio_buffer.committed"
    item_id: str
    previous_item_id: str | None = None


class InputCleared(Event):
    type: Literal["input_audio_buffer.cleared"] = "input_audio_buffer.cleared"


class ConversationItemCreated(Event):
    type: Literal["conversation.item.created"] = "conversation.item.created"
    item: dict[str, Any]
    previous_item_id: str | None = None


class ConversationItemAdded(Event):
    type: Literal["conversation.item.added"] = "conversation.item.added"
    item: dict[str, Any]
    previous_item_id: str | None = None


class ConversationItemDone(Event):
    type: Literal["conversation.item.done"] = "conversation.item.done"
    item: dict[str, Any]


class InputTranscriptionDelta(Event):
    type: Literal["conversation.item.input_audio_transcription.delta"] = (
        "conversation.item.input_audio_transcription.delta"
    )
    item_id: str
    content_index: int = 0
    delta: str = ""  # optional in GA


class InputTranscriptionCompleted(Event):
    type: Literal["conversation.item.input_audio_transcription.completed"] = (
        "conversation.item.input_audio_transcription.completed"
    )
    item_id: str
    content_index: int = 0
    transcript: str


class InputTranscriptionFailed(Event):
    type: Literal["conversation.item.input_audio_transcription.failed"] = (
        "conversation.item.input_audio_transcription.failed"
    )
    item_id: str
    content_index: int = 0
    error: ErrorDetail


class ResponseCreated(Event):
    type: Literal["response.created"] = "response.created"
    response: ResponseInfo


class ResponseDone(Event):
    type: Literal["response.done"] = "response.done"
    response: ResponseInfo


class OutputItemAdded(Event):
    type: Literal["response.output_item.added"] = "response.output_item.added"
    response_id: str
    output_index: int = 0
    item: dict[str, Any]


class OutputItemDone(Event):
    type: Literal["response.output_item.done"] = "response.output_item.done"
    response_id: str
    output_index: int = 0
    item: dict[str, Any]


class ContentPartAdded(Event):
    type: Literal["response.content_part.added"] = "response.content_part.added"
    response_id: str
    item_id: str
    output_index: int = 0
    content_index: int = 0
    part: dict[str, Any]


class ContentPartDone(Event):
    type: Literal["response.content_part.done"] = "response.content_part.done"
    response_id: str
    item_id: str
    output_index: int = 0
    content_index: int = 0
    part: dict[str, Any]


class AudioTranscriptDelta(Event):
    type: Literal["response.output_audio_transcript.delta"] = "response.output_audio_transcript.delta"
    response_id: str
    item_id: str
    output_index: int = 0
    content_index: int = 0
    delta: str


class AudioTranscriptDone(Event):
    type: Literal["response.output_audio_transcript.done"] = "response.output_audio_transcript.done"
    response_id: str
    item_id: str
    output_index: int = 0
    content_index: int = 0
    transcript: str


class AudioDelta(Event):
    """WebSocket only: a chunk of the assistant's voice, base64 PCM16."""

    type: Literal["response.output_audio.delta"] = "response.output_audio.delta"
    response_id: str
    item_id: str
    output_index: int = 0
    content_index: int = 0
    delta: str


class AudioDone(Event):
    type: Literal["response.output_audio.done"] = "response.output_audio.done"
    response_id: str
    item_id: str
    output_index: int = 0
    content_index: int = 0


class TextDelta(Event):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    response_id: str
    item_id: str
    delta: str


class TextDone(Event):
    type: Literal["response.output_text.done"] = "response.output_text.done"
    response_id: str
    item_id: str
    text: str


class FunctionCallArgumentsDelta(Event):
    type: Literal["response.function_call_arguments.delta"] = "response.function_call_arguments.delta"
    response_id: str
    item_id: str
    output_index: int = 0
    call_id: str
    delta: str


class FunctionCallArgumentsDone(Event):
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    response_id: str
    item_id: str
    output_index: int = 0
    call_id: str
    # GA only (added 2026-01): preview servers leave it out, and output_item.added carries it.
    name: str | None = None
    arguments: str


class OutputAudioBufferStarted(Event):
    type: Literal["output_audio_buffer.started"] = "output_audio_buffer.started"
    response_id: str


class OutputAudioBufferStopped(Event):
    type: Literal["output_audio_buffer.stopped"] = "output_audio_buffer.stopped"
    response_id: str


class OutputAudioBufferCleared(Event):
    type: Literal["output_audio_buffer.cleared"] = "output_audio_buffer.cleared"
    response_id: str | None = None


class ConversationItemTruncated(Event):
    """The service cut an assistant message's audio (and dropped its transcript) where asked."""

    type: Literal["conversation.item.truncated"] = "conversation.item.truncated"
    item_id: str
    content_index: int = 0
    audio_end_ms: int


class RateLimitsUpdated(Event):
    type: Literal["rate_limits.updated"] = "rate_limits.updated"
    rate_limits: list[dict[str, Any]] = Field(default_factory=list)


ServerEvent = (
    SessionCreated
    | SessionUpdated
    | ErrorEvent
    | SpeechStarted
    | SpeechStopped
    | InputCommitted
    | InputCleared
    | ConversationItemCreated
    | ConversationItemAdded
    | ConversationItemDone
    | InputTranscriptionDelta
    | InputTranscriptionCompleted
    | InputTranscriptionFailed
    | ResponseCreated
    | ResponseDone
    | OutputItemAdded
    | OutputItemDone
    | ContentPartAdded
    | ContentPartDone
    | AudioTranscriptDelta
    | AudioTranscriptDone
    | AudioDelta
    | AudioDone
    | TextDelta
    | TextDone
    | FunctionCallArgumentsDelta
    | FunctionCallArgumentsDone
    | OutputAudioBufferStarted
    | OutputAudioBufferStopped
    | OutputAudioBufferCleared
    | ConversationItemTruncated
    | RateLimitsUpdated
)

# ------------------------------------------------------------------------- client events


class SessionUpdate(Event):
    type: Literal["session.update"] = "session.update"
    session: dict[str, Any]


class InputAudioBufferAppend(Event):
    type: Literal["input_audio_buffer.append"] = "input_audio_buffer.append"
    audio: str


class InputAudioBufferCommit(Event):
    type: Literal["input_audio_buffer.commit"] = "input_audio_buffer.commit"


class InputAudioBufferClear(Event):
    type: Literal["input_audio_buffer.clear"] = "input_audio_buffer.clear"


class ConversationItemCreate(Event):
    type: Literal["conversation.item.create"] = "conversation.item.create"
    item: dict[str, Any]
    previous_item_id: str | None = None


class ResponseCreate(Event):
    type: Literal["response.create"] = "response.create"
    response: dict[str, Any] | None = None


class ResponseCancel(Event):
    type: Literal["response.cancel"] = "response.cancel"
    response_id: str | None = None


class OutputAudioBufferClear(Event):
    type: Literal["output_audio_buffer.clear"] = "output_audio_buffer.clear"


class ConversationItemTruncate(Event):
    """WebSocket barge-in: the model forgets the part of its answer the user never heard."""

    type: Literal["conversation.item.truncate"] = "conversation.item.truncate"
    item_id: str
    content_index: int = 0
    audio_end_ms: int


ClientEvent = (
    SessionUpdate
    | InputAudioBufferAppend
    | InputAudioBufferCommit
    | InputAudioBufferClear
    | ConversationItemCreate
    | ResponseCreate
    | ResponseCancel
    | OutputAudioBufferClear
    | ConversationItemTruncate
)


class UnknownEvent(Event):
    """An event type this build does not model. Counted and otherwise ignored."""


# Discriminated on "type", so a malformed event is reported against its own model.
_server_adapter: TypeAdapter[Any] = TypeAdapter(Annotated[ServerEvent, Field(discriminator="type")])
_client_adapter: TypeAdapter[Any] = TypeAdapter(Annotated[ClientEvent, Field(discriminator="type")])
_SERVER_TYPES = frozenset(t.model_fields["type"].default for t in ServerEvent.__args__)
_CLIENT_TYPES = frozenset(t.model_fields["type"].default for t in ClientEvent.__args__)


def _decode(raw: str | bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise protocol_error(f"Received an event that is not JSON ({exc.__class__.__name__}).") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise protocol_error("Received an event without a string 'type'.")
    return payload


def _parse(raw: str | bytes, adapter: TypeAdapter[Any], known: frozenset[str]) -> Event:
    payload = _decode(raw)
    payload["type"] = to_ga_type(payload["type"])
    try:
        if payload["type"] not in known:
            return UnknownEvent.model_validate(payload)  # an unknown type may still carry a bad event_id
        event: Event = adapter.validate_python(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = first["loc"][1:] if payload["type"] in known else first["loc"]  # [0] is the tag
        where = ".".join(str(p) for p in path) or "event"
        # Not chained: the validation error's text quotes the event, which may carry a key.
        raise protocol_error(f"Malformed '{payload['type']}' event: {where}: {error_message(first)}.") from None
    return event


def parse_server_event(raw: str | bytes) -> Event:
    """Parse one data-channel message from the service (GA or beta names).

    Returns a typed event (``UnknownEvent`` for types this build does not model) or raises a
    PROTOCOL :class:`VoicePilotError` for anything that is not a well-formed event.
    """
    return _parse(raw, _server_adapter, _SERVER_TYPES)


def parse_client_event(raw: str | bytes) -> Event:
    """Parse one message a client sent (the engine's side of :func:`parse_server_event`)."""
    return _parse(raw, _client_adapter, _CLIENT_TYPES)


__all__ = [
    "GA_ONLY_TYPES",
    "ClientEvent",
    "ErrorDetail",
    "Event",
    "ResponseInfo",
    "ServerEvent",
    "UnknownEvent",
    "VoicePilotError",
    "new_id",
    "parse_client_event",
    "parse_server_event",
    "to_beta_type",
    "to_ga_type",
]
