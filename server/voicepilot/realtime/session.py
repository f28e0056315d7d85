"""The session manager: one voice conversation, across as many service sessions as it takes.

It owns the connection state machine, keeps an ephemeral key at hand (:class:`KeyService`), hands
the conversation over to a fresh service session before the current one expires (make-before-
break, switching the microphone while the user is quiet), notices a dead peer within seconds, and
recovers with a strategy picked by the error's class. It reports transcripts, tool calls and
states in its own types (:mod:`voicepilot.realtime.observer`) to a :class:`SessionObserver`, and
knows nothing of the editor's contract, JSON-RPC or terminals.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import av

from voicepilot.audio.tracks import FrameSource
from voicepilot.errors import ErrorKind, VoicePilotError, media_error, network_error, protocol_error
from voicepilot.realtime import events as ev
from voicepilot.realtime.connection import Connection, seconds_until
from voicepilot.realtime.endpoints import Endpoint
from voicepilot.realtime.http import client_session
from voicepilot.realtime.key_service import Backoff, KeyService
from voicepilot.realtime.keys import Credential, EphemeralKey, mint_ephemeral_key
from voicepilot.realtime.observer import (
    ConnectionState,
    LifecycleEvent,
    Notice,
    Role,
    SessionObserver,
    StateChange,
    ToolCall,
    Transcript,
)
from voicepilot.realtime.responses import failure_of
from voicepilot.realtime.router import MicRouter
from voicepilot.realtime.service_clock import ServiceClock, backstop_end
from voicepilot.realtime.session_config import SessionConfig
from voicepilot.realtime.typed_text import new_text_item_id, user_text_event
from voicepilot.realtime.webrtc import WebRTCTransport
from voicepilot.tasks import TaskGroup, Ticker

log = logging.getLogger(__name__)

# Which state may follow which. Anything else is a bug in the manager, not a user error.
_TRANSITIONS: dict[ConnectionState, frozenset[ConnectionState]] = {
    "idle": frozenset({"authenticating", "closed"}),
    "authenticating": frozenset({"connecting", "failed", "closed"}),
    "connecting": frozenset({"connected", "reconnecting", "failed", "closed"}),
    "connected": frozenset({"renewing", "reconnecting", "failed", "closed"}),
    "renewing": frozenset({"connected", "reconnecting", "failed", "closed"}),
    "reconnecting": frozenset({"connected", "failed", "closed"}),
    "failed": frozenset({"authenticating", "closed"}),
    "closed": frozenset(),
}

# Service errors that are part of normal operation and need no user attention.
BENIGN_ERROR_CODES = frozenset({"response_cancel_not_active", "conversation_already_has_active_response"})
# Causes that another attempt cannot fix.
FATAL_KINDS = frozenset({ErrorKind.CONFIG, ErrorKind.PROTOCOL})
FATAL_CODES = frozenset({"dtls_failed"})
HISTORY_ITEMS = 20
HISTORY_CHARS = 4000
OWN_STALL_S = 1.0  # the watchdog overslept by this much: this process stalled, not the peer


@dataclass(frozen=True)
class SessionOptions:
    renew_interval_s: float = 50.0
    # End service sessions after this long even if the service would allow more (None: its limit).
    max_session_s: float | None = None
    # A peer that sends no audio for this long is dead (aiortc alone notices after ~30 s).
    dead_after_s: float = 2.5
    backoff: Backoff = field(default_factory=Backoff)
    supervise_every_s: float = 0.1
    # "auto": WebRTC, falling back to WebSocket for good when WebRTC cannot connect (UDP blocked).
    transport: Literal["auto", "webrtc", "websocket"] = "auto"


class RealtimeSession:
    def __init__(
        self,
        session_id: str,
        endpoint: Endpoint,
        credential: Credential,
        config: SessionConfig,
        observer: SessionObserver,
        source: FrameSource | None = None,
        options: SessionOptions | None = None,
        *,
        on_event: Callable[[ev.Event], None] | None = None,
        on_remote_frame: Callable[[av.AudioFrame], None] | None = None,
    ) -> None:
        """``on_event`` is told every service event, ``on_remote_frame`` is given the audio to play
        (the conversation's audio); both are called on the loop and must not raise."""
        self.session_id = session_id
        self.endpoint = endpoint
        self.config = config
        self.options = options or SessionOptions()
        self._credential = credential
        self._observer = observer
        self.router = MicRouter(source, on_switched=self._on_switched)
        self.state: ConnectionState = "idle"
        self.counters: dict[str, int] = {
            "events": 0,
            "protocol_errors": 0,
            "unknown_events": 0,
            "unknown_fields": 0,
            "refused_responses": 0,
            "failed_responses": 0,
            "service_errors": 0,
            "handovers": 0,
            "reconnects": 0,
        }
        self.active: Connection | None = None
        self._draining: list[Connection] = []
        self._numbers = 0
        self._http: aiohttp.ClientSession | None = None
        self.keys: KeyService | None = None
        self._tasks = TaskGroup(f"session {session_id}")
        self._user_text: dict[str, str] = {}
        self._assistant_text: dict[str, str] = {}
        self._handled_calls: set[str] = set()
        self._history: deque[tuple[Role, str]] = deque(maxlen=HISTORY_ITEMS)
        self._handover_due_at: float | None = None
        self._websocket_only = False
        self._handover_task: asyncio.Task[None] | None = None
        self._handover_retry_at = 0.0
        self._started_at = time.monotonic()
        self._rng = random.Random()
        self.clock = ServiceClock()
        self.failure: VoicePilotError | None = None
        self.ended = asyncio.Event()
        self.quiet = asyncio.Event()
        self.quiet.set()
        self._on_event = on_event
        self._play = on_remote_frame

    @property
    def source(self) -> FrameSource | None:
        return self.router.source

    @property
    def beta(self) -> bool:
        return self.endpoint.flavor == "preview"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Mint a key, connect and configure. Raises (after state ``failed``) on error."""
        self._http = client_session()
        http = self._http
        self.keys = KeyService(
            lambda: mint_ephemeral_key(http, self.endpoint, self._credential, self.config, self.clock),
            renew_interval_s=self.options.renew_interval_s,
            backoff=self.options.backoff,
            on_renewed=self._on_key_renewed,
        )
        try:
            self._set_state("authenticating")
            key = await self.keys.fresh_key()
            self._set_state("connecting")
            self.active = await self._open_connection(key)
            self.router.activate(self.active.routed)
            self._set_state("connected")
        except VoicePilotError as exc:
            await self._fail(exc)
            raise
        except Exception as exc:
            error = media_error(f"Unexpected failure while connecting: {exc.__class__.__name__}: {exc}")
            await self._fail(error)
            raise error from exc
        self.keys.start()
        self._tasks.spawn(self._supervise())

    async def close(self, reason: str | None = None) -> None:
        if self.state == "closed":
            return
        await self._tasks.close()
        await self._close_connections()
        if self.keys is not None:
            await self.keys.close()
        await self._credential.close()
        if self._http is not None:
            await self._http.close()
        self._set_state("closed", reason)
        self.ended.set()

    async def _close_connections(self) -> None:
        connections = [c for c in [self.active, *self._draining] if c is not None]
        self.active, self._draining = None, []
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)

    async def _fail(self, error: VoicePilotError) -> None:
        self.failure = error
        await self._close_connections()
        if self.state not in ("failed", "closed"):
            self._set_state("failed", error.describe(), error.kind)
        self.ended.set()

    def _set_state(self, state: ConnectionState, reason: str | None = None, kind: ErrorKind | None = None) -> None:
        previous = self.state
        if state == previous:
            return
        if state not in _TRANSITIONS[previous]:
            raise RuntimeError(f"invalid connection state transition {previous} -> {state}")
        self.state = state
        log.info("session %s: %s -> %s%s", self.session_id, previous, state, f" ({reason})" if reason else "")
        self._observer.on_state(StateChange(state, previous, self.session_id, reason, kind))

    # ------------------------------------------------------------------ connections

    async def _open_connection(self, key: EphemeralKey) -> Connection:
        assert self._http is not None
        self._numbers += 1
        track, routed = self.router.new_track()
        websocket = self._websocket_only or self.options.transport == "websocket"
        connection = Connection(
            self._numbers,
            self.endpoint,
            track,
            routed,
            self._on_message,
            self._on_lost,
            self._on_remote_frame,
            websocket_credential=self._credential if websocket else None,
        )
        try:
            await connection.open(key, self._http)
        except VoicePilotError as exc:
            await connection.close()
            if not websocket and self.options.transport == "auto" and exc.code == "ice_failed":
                self._websocket_only = True
                log.warning("WebRTC could not connect (%s); falling back to the WebSocket transport", exc.message)
                self._observer.on_notice(
                    Notice(
                        self.session_id,
                        "WebRTC could not connect (is UDP blocked?); using the WebSocket transport instead.",
                        ErrorKind.NETWORK,
                    )
                )
                return await self._open_connection(key)
            raise
        except BaseException:
            await connection.close()
            raise
        transport: Literal["webrtc", "websocket"] = "websocket" if connection.kind == "websocket" else "webrtc"
        if connection.service_expires_at is None:
            # Until session.created says otherwise: the profile's documented session length.
            connection.service_expires_at = backstop_end(self.endpoint.profile, connection.opened_unix)
        session = self.config.to_wire(self.endpoint.flavor, transport)
        connection.send(ev.SessionUpdate(session=session), self.beta)
        for role, text in self._history:
            connection.send(ev.ConversationItemCreate(item=self._history_item(role, text)), self.beta)
        if self.options.max_session_s is not None:
            self._handover_due_at = time.monotonic() + self._handover_at(self.options.max_session_s)
        return connection

    def _history_item(self, role: Role, text: str) -> dict[str, Any]:
        if role == "user":
            content = {"type": "input_text", "text": text}
        else:
            content = {"type": "text" if self.beta else "output_text", "text": text}
        return {"type": "message", "role": role, "content": [content]}

    @staticmethod
    def _handover_at(session_length_s: float) -> float:
        """When to start handing over, from the session's start.

        The next session comes up at once, but the microphone moves only at the first pause, so
        the window must be wide enough to hold one, and leave the old session time to finish the
        turn in flight: the last minute of an hour-long session, the last 3 s of a 4 s one.
        """
        lead = min(60.0, 0.75 * session_length_s)
        return max(0.0, session_length_s - lead)

    def _on_lost(self, connection: Connection, reason: str) -> None:
        connection.lost_reason = connection.lost_reason or reason

    # ------------------------------------------------------------------ supervision

    async def _supervise(self) -> None:
        """Watchdog, handover scheduler and drain collector, in one place so they never race."""
        loop = asyncio.get_running_loop()
        ticker = Ticker(self.options.supervise_every_s)
        while True:
            due = await ticker.tick()
            overslept = loop.time() - due
            if overslept > OWN_STALL_S:
                # This process stood still (a blocked loop, a suspended machine): the silence is ours,
                # and the frames that arrived meanwhile are still queued. Judge the peer next round.
                log.warning("session %s: the event loop stalled for %.1f s", self.session_id, overslept)
            if self.state in ("failed", "closed"):
                return
            active = self.active
            if active is None:
                continue
            problem = self._connection_problem(active, judge_silence=overslept <= OWN_STALL_S)
            if problem is not None:
                await self._cancel_handover()
                await self._recover(problem)
                continue
            if self._handover_task is None and self._handover_due():
                # A task of its own: waiting for a pause must not pause the watchdog.
                self._handover_task = self._tasks.spawn(self._handover())
            await self._collect_drained()

    async def _cancel_handover(self) -> None:
        task, self._handover_task = self._handover_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _connection_problem(self, connection: Connection, judge_silence: bool = True) -> VoicePilotError | None:
        if connection.expired:
            return network_error("The service session reached its time limit.", code="session_expired")
        if connection.lost_reason is not None:
            return network_error(f"The connection to the realtime service was lost: {connection.lost_reason}.")
        silent = connection.media_silent_for()
        if judge_silence and silent > self.options.dead_after_s:
            return network_error(f"The realtime service stopped sending audio ({silent:.1f} s of nothing).")
        return None

    def _handover_due(self) -> bool:
        if time.monotonic() < self._handover_retry_at:
            return False
        if self._handover_due_at is not None and time.monotonic() >= self._handover_due_at:
            return True
        active = self.active
        if active is not None and active.service_expires_at is not None:
            length = active.service_expires_at - active.opened_unix
            return time.time() - active.opened_unix >= self._handover_at(length)
        return False

    async def _handover(self) -> None:
        """Make-before-break: bring up the next session while the current one still streams.

        The microphone moves only in a pause, so no utterance is cut in two. The next session is
        opened once the pause has begun (connecting takes tens of milliseconds), not before:
        a standby session would age while the user talks, and its own limit would come sooner.
        """
        old = self.active
        assert old is not None
        assert self.keys is not None
        try:
            deadline = self._deadline_of(old)
            await self.router.wait_quiet(max(0.0, deadline - 1.0) if deadline is not None else 5.0)
            try:
                new = await self._open_connection(await self.keys.fresh_key())
            except VoicePilotError as exc:
                log.warning("handover failed (%s); the current session goes on", exc.message)
                self._handover_retry_at = time.monotonic() + 1.0
                return
            try:
                deadline = self._deadline_of(old)
                await self.router.wait_quiet(max(0.0, deadline - 0.3) if deadline is not None else 1.0)
            except asyncio.CancelledError:
                await new.close()  # the handover was abandoned (the old session failed first)
                raise
            self.router.activate(new.routed)
            old.deactivated_at = time.monotonic()
            self.active = new
            self._draining.append(old)
            self.counters["handovers"] += 1
        finally:
            if self._handover_task is asyncio.current_task():
                self._handover_task = None

    def _deadline_of(self, connection: Connection) -> float | None:
        """Seconds left before the connection's session ends, or None if unknown."""
        candidates = []
        if connection.service_expires_at is not None:
            candidates.append(seconds_until(connection.service_expires_at))
        if self.options.max_session_s is not None:
            candidates.append(self.options.max_session_s - (time.monotonic() - connection.opened_at))
        return min(candidates) if candidates else None

    async def _collect_drained(self) -> None:
        for connection in list(self._draining):
            # The old connection finishes its turn (reply, tool round trip); its track already sends
            # silence, which flushes the far end's jitter buffer before we close.
            settled = connection.turns.quiet and time.monotonic() - (connection.deactivated_at or 0) > 0.2
            deadline = self._deadline_of(connection)
            if settled or connection.expired or connection.lost_reason or (deadline is not None and deadline < 0):
                self._draining.remove(connection)
                await connection.close()
                self._update_quiet()

    def _on_switched(self, gap_ms: float) -> None:
        self._observer.on_lifecycle(LifecycleEvent("handover", {"gapMs": round(gap_ms, 1)}))

    def _on_key_renewed(self, key: EphemeralKey) -> None:
        self._observer.on_lifecycle(LifecycleEvent("key_renewed", {"expiresAt": key.expires_at}))

    # ------------------------------------------------------------------ recovery

    async def _recover(self, problem: VoicePilotError) -> None:
        """Replace a failed active connection, with backoff; give up with a clear message."""
        failed = self.active
        self.active = None
        if failed is not None:
            await failed.close()
        self._set_state("reconnecting", problem.message, problem.kind)
        assert self.keys is not None
        backoff = self.options.backoff
        auth_retried = False
        last: VoicePilotError = problem
        attempt = 0
        while attempt < backoff.attempts:
            if attempt > 0 or problem.code != "session_expired":
                delay = backoff.delay(attempt, self._rng)
                await asyncio.sleep(max(delay, last.retry_after_s or 0.0))
            attempt += 1
            try:
                key = await self.keys.fresh_key()
                connection = await self._open_connection(key)
            except Exception as unexpected:
                if not isinstance(unexpected, VoicePilotError):
                    log.exception("unexpected failure while reconnecting")
                exc = (
                    unexpected
                    if isinstance(unexpected, VoicePilotError)
                    else media_error(f"Unexpected failure while reconnecting: {unexpected}")
                )
                last = exc
                log.warning("reconnect attempt %d failed: %s", attempt, exc)
                if exc.kind in FATAL_KINDS or exc.code in FATAL_CODES:
                    break
                if exc.kind is ErrorKind.AUTH:
                    if auth_retried:  # a 401 is retried once, with a fresh key, and never again
                        break
                    auth_retried = True
                    self.keys.discard()
                continue
            self.active = connection
            self.router.activate(connection.routed)
            self.counters["reconnects"] += 1
            self._set_state("connected", f"reconnected after {attempt} attempt(s)")
            self._observer.on_lifecycle(LifecycleEvent("reconnected", {"attempts": float(attempt)}))
            return
        await self._fail(
            last
            if last is not problem
            else network_error(
                f"Could not reconnect to the realtime service after {attempt} attempts: {problem.message}"
            )
        )

    # ------------------------------------------------------------------ push-to-talk

    def commit_and_respond(self) -> None:
        """Push-to-talk release: the buffered audio becomes a turn, and a reply is requested."""
        connection = self._require_active()
        connection.send(ev.InputAudioBufferCommit(), self.beta)
        self._request_response(connection)

    def send_text(self, text: str) -> None:
        """A typed message: a user turn, shown as the user's transcript, and a reply asked for."""
        connection = self._require_active()
        item_id = new_text_item_id()
        event = user_text_event(text, item_id)
        connection.send(event, self.beta)
        self._transcript("user", item_id, event.item["content"][0]["text"], final=True)
        self._request_response(connection)

    def clear_input(self) -> None:
        self._require_active().send(ev.InputAudioBufferClear(), self.beta)

    def interrupt(self) -> bool:
        """Barge-in: stop the assistant. ``response.cancel`` where a response is in progress, then
        ``output_audio_buffer.clear`` (WebRTC) where one is or its audio is playing; over WebSocket,
        ``conversation.item.truncate`` at what was heard instead. A cancel that races the response's
        end gets ``response_cancel_not_active``, which is benign. Returns whether there was anything
        to stop."""
        stopped = False
        for connection in [c for c in [self.active, *self._draining] if c is not None]:
            turns = connection.turns
            try:
                if turns.active_response is not None:
                    connection.send(ev.ResponseCancel(), self.beta)
                    stopped = True
                if connection.kind == "websocket":
                    # No output buffer on the service's side: tell the model what was heard instead.
                    active = turns.active_response is not None
                    stopped = connection.truncate_to_heard(self.beta, active) or stopped
                elif turns.active_response is not None or turns.audio_playing:
                    connection.send(ev.OutputAudioBufferClear(), self.beta)
                    stopped = True
            except VoicePilotError as exc:
                log.warning("barge-in on connection %d failed: %s", connection.number, exc.message)
        return stopped

    def _on_remote_frame(self, connection: Connection, frame: av.AudioFrame) -> None:
        # One voice at a time: during a handover the old session may still be finishing its reply.
        if self._play is None:
            return
        speaking = [c for c in [self.active, *self._draining] if c is not None and c.turns.audio_playing]
        if (connection in speaking) if speaking else connection is self.active:
            self._play(frame)

    def _require_active(self) -> Connection:
        if self.active is None:
            raise protocol_error("The session is not connected.")
        return self.active

    # ------------------------------------------------------------------ events in

    def _on_message(self, connection: Connection, raw: str) -> None:
        self.counters["events"] += 1
        try:
            event = ev.parse_server_event(raw)
        except VoicePilotError as exc:
            # Malformed events are counted and ignored: one bad message must not end a call.
            self.counters["protocol_errors"] += 1
            log.warning("ignored a malformed event: %s", exc.message)
            return
        if not isinstance(event, ev.UnknownEvent) and event.model_extra:
            self.counters["unknown_fields"] += len(event.model_extra)
        self._dispatch(connection, event)
        if self._on_event is not None:
            self._on_event(event)
        self._update_quiet()

    def _update_quiet(self) -> None:
        connections = [c for c in [self.active, *self._draining] if c is not None]
        if all(c.turns.quiet for c in connections):
            self.quiet.set()
        else:
            self.quiet.clear()

    def _dispatch(self, connection: Connection, event: ev.Event) -> None:
        turns = connection.turns
        match event:
            case ev.SessionCreated(session=session) | ev.SessionUpdated(session=session):
                expires_at = session.get("expires_at")
                if isinstance(expires_at, int | float) and expires_at > 0:
                    connection.service_expires_at = self.clock.to_local(float(expires_at))
            case ev.AudioDelta(item_id=item_id, delta=delta):
                connection.heard.note_audio(item_id, len(delta) * 3 // 4)
            case ev.SpeechStarted():
                if connection.kind == "websocket":
                    # Over WebSocket the client plays the audio, so it tells the model what was heard.
                    connection.truncate_to_heard(self.beta, turns.active_response is not None)
                # Still "speaking" after speech_stopped, until the commit that follows it, so the
                # conversation never looks quiet between the two.
                turns.speaking = True
            case ev.InputCommitted():
                turns.speaking = False
                if self.config.turn_detection is not None and self.config.turn_detection.create_response:
                    turns.unanswered_commits += 1
            case ev.InputTranscriptionDelta(item_id=item_id, delta=delta):
                text = self._user_text.get(item_id, "") + delta
                self._user_text[item_id] = text
                self._transcript("user", item_id, text, final=False)
            case ev.InputTranscriptionCompleted(item_id=item_id, transcript=transcript):
                self._user_text.pop(item_id, None)
                self._transcript("user", item_id, transcript.strip(), final=True)
            case ev.ResponseCreated(response=response):
                turns.on_response_created(response)
            case ev.OutputItemAdded(item=item):
                turns.responses.note_item(item)
            case ev.OutputItemDone(response_id=response_id, item=item):
                self._start_completed_call(connection, response_id, item)
            case ev.AudioTranscriptDelta(item_id=item_id, delta=delta) | ev.TextDelta(item_id=item_id, delta=delta):
                text = self._assistant_text.get(item_id, "") + delta
                self._assistant_text[item_id] = text
                self._transcript("assistant", item_id, text, final=False)
            case ev.AudioTranscriptDone(item_id=item_id, transcript=text) | ev.TextDone(item_id=item_id, text=text):
                self._assistant_text.pop(item_id, None)
                self._transcript("assistant", item_id, text, final=True)
            case ev.FunctionCallArgumentsDone():
                name = turns.responses.name_of(event.item_id, event.call_id, event.name)
                self._start_tool_call(connection, event.call_id, name, event.arguments, event.response_id)
            case ev.ResponseDone(response=response):
                self._on_response_done(connection, response)
            case ev.OutputAudioBufferStarted():
                turns.audio_playing = True
            case ev.OutputAudioBufferStopped() | ev.OutputAudioBufferCleared():
                turns.audio_playing = False
            case ev.ErrorEvent(error=error):
                self._on_service_error(connection, error)
            case ev.UnknownEvent():
                self.counters["unknown_events"] += 1
            case _:
                pass

    def _transcript(self, role: Role, item_id: str, text: str, final: bool) -> None:
        if final and text:
            self._history.append((role, text[:HISTORY_CHARS]))
        self._observer.on_transcript(Transcript(role, item_id, text, final, self.session_id))

    def _on_service_error(self, connection: Connection, error: ev.ErrorDetail) -> None:
        if connection.turns.on_error(error) and error.code in BENIGN_ERROR_CODES:
            # An own response.create the service refused: it goes again after the next response.done.
            self.counters["refused_responses"] += 1
            log.info("response.create refused (%s); retrying after the active response", error.code)
            return
        if error.code in BENIGN_ERROR_CODES:
            return
        if error.code == "session_expired":
            connection.expired = True
            return
        self.counters["service_errors"] += 1
        log.warning("service error %s: %s", error.code, error.message)
        self._observer.on_notice(Notice(self.session_id, f"The service reported: {error.message}", ErrorKind.PROTOCOL))

    def _on_response_done(self, connection: Connection, response: ev.ResponseInfo) -> None:
        if response.status not in ("cancelled", "failed"):
            # A function call can also arrive only as an output item of response.done.
            for item in response.output:
                self._start_completed_call(connection, response.id, item)
        follow_up = connection.turns.responses.on_response_done(response)
        if follow_up is not None:
            self._send_request(connection, follow_up)
        failure = failure_of(response)
        if failure is not None:
            self.counters["failed_responses"] += 1
            log.warning("response %s ended %s: %s", response.id, response.status, failure.message)
            self._observer.on_notice(Notice(self.session_id, failure.describe(), failure.kind))

    # ------------------------------------------------------------------ tools

    def _start_completed_call(self, connection: Connection, response_id: str, item: dict[str, Any]) -> None:
        """A call from a completed function_call item, when its arguments event never came."""
        call_id = item.get("call_id")
        if item.get("type") != "function_call" or not isinstance(call_id, str) or not call_id:
            return
        if item.get("status", "completed") != "completed":
            return
        name = connection.turns.responses.name_of(item.get("id"), call_id, item.get("name"))
        self._start_tool_call(connection, call_id, name, str(item.get("arguments") or "{}"), response_id)

    def _start_tool_call(
        self, connection: Connection, call_id: str, name: str, arguments: str, response_id: str | None = None
    ) -> None:
        if call_id in self._handled_calls:
            return
        self._handled_calls.add(call_id)
        connection.turns.responses.add_call(call_id, response_id)
        connection.turns.tools_in_flight += 1
        self._tasks.spawn(self._run_tool(connection, call_id, name, arguments))

    async def _run_tool(self, connection: Connection, call_id: str, name: str, raw_arguments: str) -> None:
        try:
            output = await self._tool_output(call_id, name, raw_arguments)
            # The result goes back to the session that asked for it: it holds the call's context.
            connection.send(
                ev.ConversationItemCreate(item={"type": "function_call_output", "call_id": call_id, "output": output}),
                self.beta,
            )
        except VoicePilotError as exc:
            log.warning("could not return the result of %s: %s", name, exc.message)
        finally:
            connection.turns.tools_in_flight -= 1
            # The reply to the outputs waits for the response that carried the calls to be done.
            follow_up = connection.turns.responses.output_sent(call_id)
            if follow_up is not None:
                self._send_request(connection, follow_up)
            self._update_quiet()

    async def _tool_output(self, call_id: str, name: str, raw_arguments: str) -> str:
        try:
            arguments = json.loads(raw_arguments or "{}")
            if not isinstance(arguments, dict):
                raise ValueError("arguments are not an object")
        except ValueError as exc:
            self.counters["protocol_errors"] += 1
            return json.dumps({"ok": False, "error": f"invalid arguments: {exc}"})
        try:
            return await self._observer.run_tool(ToolCall(call_id, name, self.session_id, arguments))
        except Exception as exc:  # the editor failed: tell the model rather than hang the turn
            log.warning("tool %s failed: %s", name, exc)
            return json.dumps({"ok": False, "error": str(exc) or exc.__class__.__name__})

    def _request_response(self, connection: Connection) -> None:
        request = connection.turns.responses.request()
        if request is not None:
            self._send_request(connection, request, raise_errors=True)
        self._update_quiet()

    def _send_request(self, connection: Connection, request: ev.ResponseCreate, raise_errors: bool = False) -> None:
        try:
            connection.send(request, self.beta)
        except VoicePilotError as exc:
            connection.turns.responses.forget(request)
            if raise_errors:
                raise
            log.warning("could not ask for a response: %s", exc.message)

    # ------------------------------------------------------------------ plumbing

    def aiortc_hooks(self) -> str | None:
        """The active connection's fence around aiortc's internals (WebRTC only; audio/aiortc_hooks.py)."""
        active = self.active
        return active.transport.hooks if active is not None and isinstance(active.transport, WebRTCTransport) else None

    async def stats(self) -> dict[str, float]:
        stats: dict[str, float] = {name: float(value) for name, value in self.counters.items()}
        stats["sessionAgeS"] = round(time.monotonic() - self._started_at, 1)
        stats["framesSent"] = float(self.router.frames_routed)
        if self.keys is not None and self.keys.current is not None:
            stats["keyExpiresInS"] = round(self.keys.current.seconds_left(), 1)
            if self.keys.last_mint_ms is not None:
                stats["keyMintMs"] = round(self.keys.last_mint_ms, 1)
        active = self.active
        if active is not None:
            stats["framesReceived"] = float(active.transport.frames_received)
            stats["ownResponseRequests"] = float(active.turns.own_response_requests)
            stats.update(active.track.stats())
            deadline = self._deadline_of(active)
            if deadline is not None:
                stats["serviceSessionEndsInS"] = round(deadline, 1)
            stats.update(await active.transport.stats())
        return stats
