"""The local engine's conversation: what one realtime session does, whatever carries it.

Audio in (16 kHz mono) goes to server VAD, or is buffered for push-to-talk. Each turn is
transcribed offline and answered with the GA event sequence (beta names for preview sessions),
the reply spoken through the :class:`Link` (an RTP track for WebRTC, audio deltas for WebSocket).
The session ends like the service's: an ``error`` with code ``session_expired`` at its limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from voicepilot.audio.frames import SAMPLE_RATE, Pcm, Resampler, rms_dbfs
from voicepilot.engine import responses
from voicepilot.engine.faults import Faults
from voicepilot.engine.recognizers import STT_RATE, RecognizerPool
from voicepilot.engine.session_checks import session_problem
from voicepilot.engine.speech import dialogue, stt, tts
from voicepilot.engine.speech import vad as vad_mod
from voicepilot.engine.speech.grammar import CommandGrammar, ToolCall
from voicepilot.errors import VoicePilotError
from voicepilot.realtime import events as ev
from voicepilot.realtime.events import new_id
from voicepilot.realtime.session_config import Flavor, SessionConfig
from voicepilot.realtime.voices import voice_for
from voicepilot.tasks import TaskGroup

log = logging.getLogger(__name__)

MIN_COMMIT_MS = 100
MAX_BUFFER_S = 300  # push-to-talk input buffer bound (the service caps an append at 15 MiB)
# Opus-decoded digital silence stays far below this; any real sound (even a -60 dBFS floor) is above.
SOUND_FLOOR_DBFS = -80.0
# A sound is timed from its first frame above this on the way out (``sound_departures``) and its first
# above the floor on the way in: a faint onset frame that the codec takes under the floor would
# otherwise start the clock a frame early, and the one-way times jump by 20 ms.
DEPARTURE_DBFS = SOUND_FLOOR_DBFS + 20


@dataclass
class UserTurn:
    item_id: str
    recognition: asyncio.Future[stt.Recognition]


@dataclass(frozen=True)
class HeardTurn:
    """One transcribed turn: how the recogniser judged it and how much audio it had, so that a
    misheard command can be told apart from a clipped one."""

    transcript: str
    source: Literal["grammar", "free"]
    confidence: float
    audio_ms: int

    def wire(self) -> dict[str, Any]:
        return {
            "transcript": self.transcript,
            "source": self.source,
            "confidence": round(self.confidence, 3),
            "audioMs": self.audio_ms,
        }


@dataclass
class CallRecord:
    """What the call received: the control API exposes it to tests."""

    client_events: list[str] = field(default_factory=list)
    function_call_outputs: list[dict[str, Any]] = field(default_factory=list)
    turns: list[HeardTurn] = field(default_factory=list)
    invalid_events: int = 0
    # Arrival times (engine monotonic clock, s) of inbound audio that carries sound (WebRTC: one per
    # 20 ms frame, at its packet's arrival; WebSocket: one per append): gaps between them show audio
    # lost at a key renewal or a session handover.
    sound_arrivals: list[float] = field(default_factory=list)
    # Times (same clock) the engine sent audio that carries sound: with the client's own arrival
    # times, they give the one-way downlink latency (scripts/bench).
    sound_departures: list[float] = field(default_factory=list)
    frames_received: int = 0
    # WebRTC: the audio the received packets held (ms); with ``frames_received`` (one per packet), it
    # shows how long the client's packets are (the sidecar sends its settled silence 60 ms at a time).
    rtp_audio_ms: float = 0.0
    expired: bool = False
    # (item_id, audio_end_ms) of each conversation.item.truncate the engine carried out.
    truncations: list[tuple[str, int]] = field(default_factory=list)


class Link(Protocol):
    """How a conversation reaches its client: WebRTC (RTP + data channel) or a WebSocket."""

    kind: Literal["webrtc", "websocket"]

    def send(self, payload: str) -> None: ...

    def play(self, samples: Pcm, response_id: str, item_id: str) -> None:
        """Speak 48 kHz mono PCM; call :meth:`Conversation.playback_drained` when it has played."""

    def clear_audio(self) -> bool:
        """Stop speaking at once; True when something was playing."""

    def hang_up(self) -> None: ...


class Conversation:
    def __init__(
        self,
        flavor: Flavor,
        config: SessionConfig,
        recognizers: RecognizerPool,
        session_limit_s: float | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.flavor = flavor
        self._faults = faults or Faults()
        self._recognizers = recognizers
        self.config = config
        self.session_id = new_id("sess")
        self.record = CallRecord()
        self.created_at = time.time()
        self.session_limit_s = session_limit_s
        self.link: Link | None = None
        self._vad = self._make_vad()
        self._input: list[Pcm] = []
        self._input_samples = 0
        self._items: list[dict[str, Any]] = []
        self._audio_ms: dict[str, int] = {}  # each assistant message's audio length (truncation)
        self._pending_turns: list[UserTurn] = []
        self._active_response: str | None = None
        self._active_task: asyncio.Task[None] | None = None
        self._speaking_response: str | None = None
        self._told_no_voice = False  # the notice that flite is missing goes once per session
        self._current_item: str | None = None
        self._cancel_reason: str | None = None
        self._response_lock = asyncio.Lock()
        # Responses started and not yet done (one running, the service's own ones queued behind it).
        self._open_responses = 0
        self._race_refusals: list[str | None] = []  # requests refused once the next response is created
        self._tasks = TaskGroup("engine conversation")
        self.closed = asyncio.Event()
        self._closing = False
        # WebSocket clients send 24 kHz PCM16; the recognizer wants 16 kHz.
        self._ws_resampler = Resampler(ev.WEBSOCKET_PCM_RATE, STT_RATE)

    # ------------------------------------------------------------------ setup

    def attach(self, link: Link) -> None:
        """Start the conversation on a connected link: greet, arm the limit."""
        self.link = link
        if self.session_limit_s is not None:
            self._tasks.spawn(self._expire_after(self.session_limit_s))
        self.emit(ev.SessionCreated(session=self.session_object()))

    @property
    def expires_at(self) -> int | None:
        """The end of the session, as announced (whole seconds, like the service's) and enforced."""
        if self.session_limit_s is None:
            return None
        return math.ceil(self.created_at + self.session_limit_s)

    async def _expire_after(self, limit_s: float) -> None:
        assert self.expires_at is not None
        await asyncio.sleep(max(0.0, self.expires_at - time.time()))
        self.record.expired = True
        minutes = limit_s / 60
        self._error("session_expired", f"Your session hit the maximum duration of {minutes:g} minutes.")
        if self.link is not None:
            self.link.hang_up()

    def _make_vad(self) -> vad_mod.ServerVad | None:
        turn = self.config.turn_detection
        if turn is None:
            return None
        return vad_mod.ServerVad(turn.threshold, turn.prefix_padding_ms, turn.silence_duration_ms, STT_RATE)

    async def close(self) -> None:
        """Idempotent; safe to call from any task, including one the conversation owns."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        await self._tasks.close()
        self.closed.set()

    # ------------------------------------------------------------------ events out

    def emit(self, event: ev.Event) -> None:
        if self.flavor == "preview" and event.type in ev.GA_ONLY_TYPES:
            return
        if event.event_id is None:
            event.event_id = new_id("event")
        if self.link is not None and not self._closing:
            self.link.send(event.to_json(beta=self.flavor == "preview"))

    def _error(self, code: str, message: str, event_id: str | None = None, kind: str = "invalid_request_error") -> None:
        self.emit(ev.ErrorEvent(error=ev.ErrorDetail(type=kind, code=code, message=message, event_id=event_id)))

    def session_object(self) -> dict[str, Any]:
        session = self.config.to_wire(self.flavor)
        session.update(id=self.session_id, object="realtime.session")
        if self.expires_at is not None:
            session["expires_at"] = self.expires_at
        return session

    # ------------------------------------------------------------------ events in

    def on_message(self, raw: str | bytes) -> None:
        try:
            event = ev.parse_client_event(raw)
        except VoicePilotError as exc:
            self.record.invalid_events += 1
            self._error("invalid_event", exc.message)
            return
        self.record.client_events.append(event.type)
        match event:
            case ev.SessionUpdate(session=session):
                self._update_session(session)
            case ev.InputAudioBufferCommit():
                self._commit(event.event_id)
            case ev.InputAudioBufferClear():
                self._clear_input()
                self.emit(ev.InputCleared())
            case ev.ConversationItemCreate(item=item):
                self._create_item(item, event.event_id)
            case ev.ResponseCreate(response=response):
                if self._open_responses:
                    # As the service does: one response at a time, and a request during one is refused.
                    self._refuse(event.event_id)
                elif self._faults.take_create_race():
                    # The service began a response of its own just as the request came in.
                    self._race_refusals.append(event.event_id)
                    self._start_response()
                else:
                    metadata = (response or {}).get("metadata")
                    self._start_response(metadata=metadata if isinstance(metadata, dict) else None)
            case ev.ResponseCancel():
                if not self._cancel_response("client_cancelled"):
                    self._error("response_cancel_not_active", "There is no active response to cancel.", event.event_id)
            case ev.OutputAudioBufferClear() if self._webrtc:
                self._clear_output()
                self.emit(ev.OutputAudioBufferCleared(response_id=self._speaking_response))
            case ev.ConversationItemTruncate():
                self._truncate(event)
            case ev.InputAudioBufferAppend() if not self._webrtc:
                self._on_append(event.audio, event.event_id)
            case ev.InputAudioBufferAppend():
                # Over WebRTC audio arrives on the media track; appends are a WebSocket feature.
                self._error("invalid_event", "input_audio_buffer.append is not supported over WebRTC.", event.event_id)
            case _:
                self._error("invalid_event", f"Unsupported event type '{event.type}'.", event.event_id)

    def _refuse(self, event_id: str | None) -> None:
        message = responses.active_response_message(self._active_response)
        self._error(ev.ACTIVE_RESPONSE_CODE, message, event_id)

    def _update_session(self, session: dict[str, Any]) -> None:
        problem = session_problem(session, self.flavor)
        if problem is not None:
            self._error("invalid_value", problem)
            return
        try:
            self.config = self.config.merge_wire(session, self.flavor)
        except (TypeError, ValueError, AttributeError) as exc:
            self._error("invalid_value", f"Invalid session configuration: {exc}")
            return
        self._vad = self._make_vad()
        self.emit(ev.SessionUpdated(session=self.session_object()))

    def _create_item(self, item: dict[str, Any], event_id: str | None) -> None:
        kind = item.get("type")
        if kind not in ("message", "function_call_output", "function_call"):
            self._error("invalid_value", f"Unsupported item type '{kind}'.", event_id)
            return
        item = dict(item, id=item.get("id") or new_id("item"), object="realtime.item", status="completed")
        if kind == "function_call_output":
            self.record.function_call_outputs.append(item)
        self._add_item(item)

    def _truncate(self, event: ev.ConversationItemTruncate) -> None:
        """As the service does: only an assistant message's audio, not past its end; the transcript
        goes too, so the model's context holds nothing the user did not hear."""
        index = next((i for i, item in enumerate(self._items) if item.get("id") == event.item_id), None)
        audio_ms = self._audio_ms.get(event.item_id)
        if index is None:
            self._error("invalid_value", f"Item '{event.item_id}' does not exist.", event.event_id)
        elif audio_ms is None or event.content_index != 0:
            self._error("invalid_value", "Only the audio of an assistant message can be truncated.", event.event_id)
        elif not 0 <= event.audio_end_ms <= audio_ms:
            self._error(
                "invalid_value",
                f"audio_end_ms {event.audio_end_ms} is outside the item's audio (0-{audio_ms} ms).",
                event.event_id,
            )
        else:
            item = self._items[index]
            self._items[index] = dict(item, content=[dict(part, transcript="") for part in item["content"]])
            self._audio_ms[event.item_id] = event.audio_end_ms
            self.record.truncations.append((event.item_id, event.audio_end_ms))
            self.emit(ev.ConversationItemTruncated(item_id=event.item_id, audio_end_ms=event.audio_end_ms))

    def _add_item(self, item: dict[str, Any]) -> None:
        previous = self._items[-1]["id"] if self._items else None
        self._items.append(item)
        self.emit(ev.ConversationItemCreated(item=item, previous_item_id=previous))
        self.emit(ev.ConversationItemAdded(item=item, previous_item_id=previous))

    # ------------------------------------------------------------------ audio in

    @property
    def _webrtc(self) -> bool:
        return self.link is not None and self.link.kind == "webrtc"

    def _on_append(self, audio_b64: str, event_id: str | None) -> None:
        try:
            pcm24 = np.frombuffer(base64.b64decode(audio_b64, validate=True), dtype="<i2")
        except (ValueError, binascii.Error):
            self._error("invalid_value", "input_audio_buffer.append: audio is not base64 PCM16.", event_id)
            return
        if rms_dbfs(pcm24) > SOUND_FLOOR_DBFS:
            self.record.sound_arrivals.append(time.monotonic())
        self.feed_audio(self._ws_resampler.resample(pcm24.astype(np.int16)))

    def feed_audio(self, samples: Pcm) -> None:
        """16 kHz mono PCM from the client's microphone."""
        if samples.size == 0:
            return
        if self._vad is None:
            self._buffer_input(samples)
            return
        for vad_event in self._vad.feed(samples):
            if isinstance(vad_event, vad_mod.SpeechStarted):
                self._on_speech_started(vad_event.audio_start_ms)
            else:
                self._on_speech_stopped(vad_event.audio_end_ms, vad_event.audio)

    def _buffer_input(self, samples: Pcm) -> None:
        self._input.append(samples)
        self._input_samples += samples.size
        while self._input_samples > MAX_BUFFER_S * STT_RATE and self._input:
            self._input_samples -= self._input.pop(0).size

    def _clear_input(self) -> None:
        self._input.clear()
        self._input_samples = 0

    def _on_speech_started(self, audio_start_ms: int) -> None:
        self._current_item = new_id("item")
        self.emit(ev.SpeechStarted(audio_start_ms=audio_start_ms, item_id=self._current_item))
        turn = self.config.turn_detection
        if turn is not None and turn.interrupt_response:
            self._cancel_response("turn_detected")

    def _on_speech_stopped(self, audio_end_ms: int, audio: bytes) -> None:
        item_id = self._current_item or new_id("item")
        self._current_item = None
        self.emit(ev.SpeechStopped(audio_end_ms=audio_end_ms, item_id=item_id))
        self._start_turn(item_id, audio)
        turn = self.config.turn_detection
        if turn is not None and turn.create_response:
            self._start_response()

    def _commit(self, event_id: str | None) -> None:
        audio = np.concatenate(self._input).tobytes() if self._input else b""
        duration_ms = _duration_ms(audio)
        if duration_ms < MIN_COMMIT_MS:
            self._error(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms "
                f"of audio, but buffer only has {duration_ms:.2f}ms of audio.",
                event_id,
            )
            return
        self._clear_input()
        self._start_turn(new_id("item"), audio)

    def _start_turn(self, item_id: str, audio: bytes) -> None:
        previous = self._items[-1]["id"] if self._items else None
        self.emit(ev.InputCommitted(item_id=item_id, previous_item_id=previous))
        self._add_item(
            {
                "id": item_id,
                "object": "realtime.item",
                "type": "message",
                "role": "user",
                "status": "completed",
                "content": [{"type": "input_audio", "transcript": None}],
            }
        )
        future: asyncio.Future[stt.Recognition] = asyncio.get_running_loop().create_future()
        self._pending_turns.append(UserTurn(item_id, future))
        self._tasks.spawn(self._transcribe(item_id, audio, future))

    async def _transcribe(self, item_id: str, audio: bytes, future: asyncio.Future[stt.Recognition]) -> None:
        try:
            # Borrowed for this utterance only: calls that overlap (a handover's old and new
            # session, many users) share a few warm recognizers instead of loading more.
            recognizer = await self._recognizers.acquire(self.config.tools)
            try:
                recognition = await asyncio.to_thread(recognizer.transcribe, audio)
            finally:
                self._recognizers.release(recognizer)
        except Exception as exc:
            log.exception("transcription failed")
            self.emit(
                ev.InputTranscriptionFailed(
                    item_id=item_id,
                    error=ev.ErrorDetail(type="server_error", code="transcription_failed", message=str(exc)),
                )
            )
            future.set_result(stt.Recognition(text="", tool_call=None, confidence=0.0, source="free"))
            return
        self.record.turns.append(
            HeardTurn(recognition.text, recognition.source, recognition.confidence, _duration_ms(audio))
        )
        if recognition.text:
            self.emit(ev.InputTranscriptionDelta(item_id=item_id, delta=recognition.text))
        self.emit(ev.InputTranscriptionCompleted(item_id=item_id, transcript=recognition.text))
        future.set_result(recognition)

    # ------------------------------------------------------------------ responses

    def call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """Answer next with a call of ``name``, whatever was said: a hostile model, for the tests.

        Returns the call's id; the client's ``function_call_output`` for it lands in :attr:`record`.
        """
        return self.call_tools([(name, arguments)])[0]

    def call_tools(self, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
        """Answer next with one response that calls every tool listed (parallel tool calls)."""
        planned = [(ToolCall(name, arguments), new_id("call")) for name, arguments in calls]
        self._start_response(calls=planned)
        return [call_id for _, call_id in planned]

    def _start_response(
        self, calls: list[tuple[ToolCall, str]] | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._open_responses += 1
        self._tasks.spawn(self._respond(calls, metadata))

    async def _respond(self, calls: list[tuple[ToolCall, str]] | None, metadata: dict[str, Any] | None) -> None:
        try:
            async with self._response_lock:
                response_id = new_id("resp")
                self._active_response = response_id
                self._active_task = asyncio.current_task()
                try:
                    await self._run_response(response_id, calls, metadata)
                except asyncio.CancelledError:
                    self._finish_response(response_id, [], metadata, self._cancel_ending())
                    raise
                finally:
                    self._active_response = None
                    self._active_task = None
        finally:
            self._open_responses -= 1

    def _cancel_ending(self) -> responses.Ending:
        reason = self._cancel_reason
        return responses.Ending("cancelled", {"type": "cancelled", "reason": reason} if reason else None)

    async def _run_response(
        self, response_id: str, calls: list[tuple[ToolCall, str]] | None, metadata: dict[str, Any] | None
    ) -> None:
        self.emit(ev.ResponseCreated(response=ev.ResponseInfo(id=response_id, metadata=metadata)))
        while self._race_refusals:
            self._refuse(self._race_refusals.pop(0))
        self.emit(
            ev.RateLimitsUpdated(
                rate_limits=[
                    {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60.0},
                    {"name": "tokens", "limit": 100000, "remaining": 99000, "reset_seconds": 60.0},
                ]
            )
        )
        failure = self._faults.take_response_failure()
        if failure is not None:
            self._finish_response(response_id, [], metadata, responses.failure(failure))
            return
        output: list[dict[str, Any]] = []
        if calls is None:
            reply = await self._compose_reply()
            calls = [(reply.tool_call, new_id("call"))] if reply.tool_call is not None else []
            if not calls:
                say = self._write if self.config.output_modality == "text" else self._speak
                output = [await say(response_id, reply.text)]
        if calls:
            output = [self._function_call_item(response_id, *call, index) for index, call in enumerate(calls)]
        if self._faults.hold_response_done_ms:
            # The service takes its time to close a response; a client must not race it.
            await asyncio.sleep(self._faults.hold_response_done_ms / 1000)
        self._finish_response(response_id, output, metadata)

    async def _compose_reply(self) -> dialogue.Reply:
        last = self._items[-1] if self._items else None
        if last is not None and last.get("type") == "function_call_output":
            # Every output since the last message: parallel calls are answered in one reply.
            outputs: list[dict[str, Any]] = []
            for item in reversed(self._items):
                if item.get("type") == "message":
                    break
                if item.get("type") == "function_call_output":
                    outputs.insert(0, item)
            return dialogue.Reply(" ".join(self._tool_output_reply(output) for output in outputs), None)
        if self._pending_turns:
            turn = self._pending_turns.pop(0)
            return dialogue.reply_for_user_turn(await turn.recognition)
        if last is not None and last.get("type") == "message" and last.get("role") == "user":
            # A typed turn (input_text): read as the recogniser's grammar would have heard it.
            text = " ".join(str(c.get("text", "")) for c in last.get("content", []) if isinstance(c, dict)).strip()
            call = CommandGrammar.from_tools(self.config.tools).parse_typed(text)
            source: Literal["grammar", "free"] = "grammar" if call is not None else "free"
            typed = stt.Recognition(text=text, tool_call=call, confidence=1.0, source=source)
            return dialogue.reply_for_user_turn(typed)
        return dialogue.Reply("How can I help?", None)

    def _tool_output_reply(self, output: dict[str, Any]) -> str:
        call = next(
            (
                i
                for i in reversed(self._items)
                if i.get("type") == "function_call" and i.get("call_id") == output.get("call_id")
            ),
            None,
        )
        name = str(call.get("name", "")) if call else ""
        arguments = json.loads(call.get("arguments", "{}")) if call else {}
        return dialogue.reply_for_tool_output(name, arguments, str(output.get("output", "")))

    def _function_call_item(self, response_id: str, call: ToolCall, call_id: str, index: int = 0) -> dict[str, Any]:
        item_id = new_id("item")
        arguments = json.dumps(call.arguments)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": call_id,
            "arguments": "",
        }
        self.emit(ev.OutputItemAdded(response_id=response_id, output_index=index, item=item))
        item = dict(item, status="completed", arguments=arguments)
        self._add_item(item)
        self.emit(
            ev.FunctionCallArgumentsDelta(
                response_id=response_id, item_id=item_id, output_index=index, call_id=call_id, delta=arguments
            )
        )
        self.emit(
            ev.FunctionCallArgumentsDone(
                response_id=response_id,
                item_id=item_id,
                output_index=index,
                call_id=call_id,
                # Preview servers leave the name out (GA added it): it is in output_item.added.
                name=None if self.flavor == "preview" else call.name,
                arguments=arguments,
            )
        )
        self.emit(ev.OutputItemDone(response_id=response_id, output_index=index, item=item))
        self.emit(ev.ConversationItemDone(item=item))
        return item

    def _open_message(self, response_id: str, item_id: str) -> dict[str, Any]:
        """Announce the assistant's message item of a response, in progress and still empty."""
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        self.emit(ev.OutputItemAdded(response_id=response_id, item=item))
        self.emit(
            ev.ConversationItemCreated(item=item, previous_item_id=self._items[-1]["id"] if self._items else None)
        )
        return item

    async def _speak(self, response_id: str, text: str) -> dict[str, Any]:
        item_id = new_id("item")
        part = {"type": "output_audio", "transcript": ""}
        item = self._open_message(response_id, item_id)
        self.emit(ev.ContentPartAdded(response_id=response_id, item_id=item_id, part=part))
        audio = await self._voice(text)
        assert self.link is not None
        if audio.size:
            self._speaking_response = response_id
            if self._webrtc:
                self.emit(ev.OutputAudioBufferStarted(response_id=response_id))
            self.link.play(audio, response_id, item_id)
        words = text.split(" ")
        for index, word in enumerate(words):
            delta = word if index == 0 else " " + word
            self.emit(ev.AudioTranscriptDelta(response_id=response_id, item_id=item_id, delta=delta))
        self.emit(ev.AudioTranscriptDone(response_id=response_id, item_id=item_id, transcript=text))
        part = dict(part, transcript=text)
        self.emit(ev.ContentPartDone(response_id=response_id, item_id=item_id, part=part))
        item = dict(item, status="completed", content=[part])
        self._items.append(item)
        self._audio_ms[item_id] = len(audio) * 1000 // SAMPLE_RATE
        self.emit(ev.OutputItemDone(response_id=response_id, item=item))
        self.emit(ev.ConversationItemDone(item=item))
        return item

    async def _voice(self, text: str) -> Pcm:
        """The reply spoken; without flite, no audio (the transcript still goes) and a notice once."""
        try:
            return await tts.synthesize(text, SAMPLE_RATE, voice_for(self.flavor, self.config.voice))
        except VoicePilotError as exc:
            if exc.code != tts.FLITE_MISSING:
                raise
            if not self._told_no_voice:
                self._told_no_voice = True
                log.warning("%s", exc)
                self._error(tts.FLITE_MISSING, f"{exc.message} {exc.next_step}", kind="server_error")
            return np.zeros(0, dtype=np.int16)

    async def _write(self, response_id: str, text: str) -> dict[str, Any]:
        """A text-only reply (``output_modalities: ["text"]``): the text events, no audio."""
        item_id = new_id("item")
        item = self._open_message(response_id, item_id)
        part = {"type": "output_text" if self.flavor == "ga" else "text", "text": ""}
        self.emit(ev.ContentPartAdded(response_id=response_id, item_id=item_id, part=part))
        for index, word in enumerate(text.split(" ")):
            self.emit(ev.TextDelta(response_id=response_id, item_id=item_id, delta=word if index == 0 else " " + word))
        self.emit(ev.TextDone(response_id=response_id, item_id=item_id, text=text))
        part = dict(part, text=text)
        self.emit(ev.ContentPartDone(response_id=response_id, item_id=item_id, part=part))
        item = dict(item, status="completed", content=[part])
        self._items.append(item)
        self.emit(ev.OutputItemDone(response_id=response_id, item=item))
        self.emit(ev.ConversationItemDone(item=item))
        return item

    def _finish_response(
        self,
        response_id: str,
        output: list[dict[str, Any]],
        metadata: dict[str, Any] | None,
        ending: responses.Ending = responses.COMPLETED,
    ) -> None:
        self.emit(
            ev.ResponseDone(
                response=ev.ResponseInfo(
                    id=response_id,
                    status=ending.status,
                    output=output,
                    status_details=ending.details,
                    metadata=metadata,
                    usage=responses.usage(output, len(self._items)),
                )
            )
        )

    def _cancel_response(self, reason: str) -> bool:
        """Stop the active response (and its audio). Returns False when nothing was active."""
        cancelled = False
        if self._active_task is not None and not self._active_task.done():
            self._cancel_reason = reason
            self._active_task.cancel()
            cancelled = True
        speaking = self._speaking_response
        if self._clear_output():
            if self._webrtc:
                self.emit(ev.OutputAudioBufferCleared(response_id=speaking))
            cancelled = True
        return cancelled

    def _clear_output(self) -> bool:
        self._speaking_response = None
        return self.link.clear_audio() if self.link is not None else False

    def playback_drained(self) -> None:
        if self._speaking_response is not None:
            if self._webrtc:
                self.emit(ev.OutputAudioBufferStopped(response_id=self._speaking_response))
            self._speaking_response = None


def _duration_ms(audio: bytes) -> int:
    """Length of 16-bit mono PCM at the recogniser's rate."""
    return len(audio) // 2 * 1000 // STT_RATE
