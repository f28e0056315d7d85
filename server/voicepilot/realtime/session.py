"""The session manager: one voice conversation, from key mint to close.

It owns the connection state machine, turns service events into editor-level callbacks
(transcripts, tool calls, state changes) and sends the tool results back. It knows nothing of
JSON-RPC or terminals: the sidecar and ``voicepilot talk`` both drive it through a
:class:`SessionObserver`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

import aiohttp

from voicepilot.audio.tracks import FrameSource, PacedAudioTrack
from voicepilot.contract import (
    ConnectionStateName,
    ConnectionStateParams,
    DiagnosticsParams,
    Role,
    RunToolParams,
    TranscriptParams,
)
from voicepilot.errors import VoicePilotError, media_error, protocol_error
from voicepilot.realtime import events as ev
from voicepilot.realtime.endpoints import Endpoint
from voicepilot.realtime.keys import Credential, mint_ephemeral_key
from voicepilot.realtime.session_config import SessionConfig
from voicepilot.realtime.webrtc import TransportCallbacks, WebRTCTransport

log = logging.getLogger(__name__)

# Which state may follow which. Anything else is a bug in the manager, not a user error.
_TRANSITIONS: dict[ConnectionStateName, frozenset[ConnectionStateName]] = {
    "idle": frozenset({"authenticating", "closed"}),
    "authenticating": frozenset({"connecting", "failed", "closed"}),
    "connecting": frozenset({"connected", "failed", "closed"}),
    "connected": frozenset({"renewing", "reconnecting", "failed", "closed"}),
    "renewing": frozenset({"connected", "reconnecting", "failed", "closed"}),
    "reconnecting": frozenset({"authenticating", "connecting", "connected", "failed", "closed"}),
    "failed": frozenset({"authenticating", "closed"}),
    "closed": frozenset(),
}

# Service errors that are part of normal operation and need no user attention.
BENIGN_ERROR_CODES = frozenset({"response_cancel_not_active", "conversation_already_has_active_response"})


class SessionObserver(Protocol):
    def on_state(self, change: ConnectionStateParams) -> None: ...

    def on_transcript(self, transcript: TranscriptParams) -> None: ...

    def on_diagnostics(self, diagnostics: DiagnosticsParams) -> None: ...

    async def run_tool(self, call: RunToolParams) -> str: ...


class TurnTracker:
    """Knows when the conversation is quiet: no speech, no pending reply, no tool in flight.

    ``voicepilot talk`` uses it to exit after the reply to the last utterance.
    """

    def __init__(self) -> None:
        self.speaking = False
        self.unanswered_commits = 0
        self.own_response_requests = 0
        self.active_response: str | None = None
        self.tools_in_flight = 0
        self.audio_playing = False
        self.responses_done = 0
        self.quiet = asyncio.Event()
        self.quiet.set()

    def update(self) -> None:
        busy = (
            self.speaking
            or self.unanswered_commits > 0
            or self.own_response_requests > 0
            or self.active_response is not None
            or self.tools_in_flight > 0
            or self.audio_playing
        )
        if busy:
            self.quiet.clear()
        else:
            self.quiet.set()

    def on_response_created(self, response_id: str) -> None:
        self.active_response = response_id
        if self.own_response_requests > 0:
            self.own_response_requests -= 1
        elif self.unanswered_commits > 0:
            self.unanswered_commits -= 1


class RealtimeSession:
    def __init__(
        self,
        session_id: str,
        endpoint: Endpoint,
        credential: Credential,
        config: SessionConfig,
        observer: SessionObserver,
        source: FrameSource | None = None,
    ) -> None:
        self.session_id = session_id
        self.endpoint = endpoint
        self.config = config
        self._credential = credential
        self._observer = observer
        self.track = PacedAudioTrack(source)
        self.state: ConnectionStateName = "idle"
        self.turns = TurnTracker()
        self.counters: dict[str, int] = {
            "events": 0,
            "protocol_errors": 0,
            "unknown_events": 0,
            "service_errors": 0,
        }
        self._transport: WebRTCTransport | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._user_text: dict[str, str] = {}
        self._assistant_text: dict[str, str] = {}
        self._handled_calls: set[str] = set()
        self.failure: VoicePilotError | None = None
        self.ended = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Mint a key, connect and configure the session. Raises (after state ``failed``) on error."""
        self._http = aiohttp.ClientSession()
        try:
            self._set_state("authenticating")
            key = await mint_ephemeral_key(self._http, self.endpoint, self._credential, self.config)
            self._set_state("connecting")
            transport = WebRTCTransport(
                self.endpoint,
                self.track,
                TransportCallbacks(on_message=self._on_message, on_closed=self._on_transport_closed),
            )
            self._transport = transport
            await transport.connect(key, self._http)
            self._send(ev.SessionUpdate(session=self.config.to_wire(self.endpoint.flavor)))
            self._set_state("connected")
        except VoicePilotError as exc:
            await self._fail(exc)
            raise
        except Exception as exc:
            error = media_error(f"Unexpected failure while connecting: {exc.__class__.__name__}: {exc}")
            await self._fail(error)
            raise error from exc

    async def close(self, reason: str | None = None) -> None:
        if self.state == "closed":
            return
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._transport is not None:
            await self._transport.close()
        if self._http is not None:
            await self._http.close()
        self._set_state("closed", reason)
        self.ended.set()

    async def _fail(self, error: VoicePilotError) -> None:
        self.failure = error
        if self._transport is not None:
            await self._transport.close()
            self._transport = None
        if self.state not in ("failed", "closed"):
            self._set_state("failed", error.describe(), error.kind.value)
        self.ended.set()

    def _set_state(self, state: ConnectionStateName, reason: str | None = None, kind: str | None = None) -> None:
        previous = self.state
        if state == previous:
            return
        if state not in _TRANSITIONS[previous]:
            raise RuntimeError(f"invalid connection state transition {previous} -> {state}")
        self.state = state
        log.info("session %s: %s -> %s%s", self.session_id, previous, state, f" ({reason})" if reason else "")
        self._observer.on_state(
            ConnectionStateParams(
                state=state,
                previous=previous,
                reason=reason,
                error_kind=kind,  # type: ignore[arg-type]
                session_id=self.session_id,
            )
        )

    # ------------------------------------------------------------------ push-to-talk

    def commit_and_respond(self) -> None:
        """Push-to-talk release: the buffered audio becomes a turn, and a reply is requested."""
        self._send(ev.InputAudioBufferCommit())
        self._request_response()

    def clear_input(self) -> None:
        self._send(ev.InputAudioBufferClear())

    # ------------------------------------------------------------------ events in

    def _on_message(self, raw: str) -> None:
        self.counters["events"] += 1
        try:
            event = ev.parse_server_event(raw)
        except VoicePilotError as exc:
            # Malformed events are counted and ignored: one bad message must not end a call.
            self.counters["protocol_errors"] += 1
            log.warning("ignored a malformed event: %s", exc.message)
            return
        self._dispatch(event)
        self.turns.update()

    def _dispatch(self, event: ev.Event) -> None:
        turns = self.turns
        match event:
            case ev.SpeechStarted():
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
                turns.on_response_created(response.id)
            case ev.AudioTranscriptDelta(item_id=item_id, delta=delta) | ev.TextDelta(item_id=item_id, delta=delta):
                text = self._assistant_text.get(item_id, "") + delta
                self._assistant_text[item_id] = text
                self._transcript("assistant", item_id, text, final=False)
            case ev.AudioTranscriptDone(item_id=item_id, transcript=text) | ev.TextDone(item_id=item_id, text=text):
                self._assistant_text.pop(item_id, None)
                self._transcript("assistant", item_id, text, final=True)
            case ev.FunctionCallArgumentsDone():
                self._start_tool_call(event.call_id, event.name, event.arguments)
            case ev.ResponseDone(response=response):
                turns.responses_done += 1
                if turns.active_response == response.id:
                    turns.active_response = None
                # A function call can also arrive only as an output item of response.done.
                for item in response.output:
                    if item.get("type") == "function_call" and item.get("call_id"):
                        self._start_tool_call(
                            str(item["call_id"]), str(item.get("name", "")), str(item.get("arguments", "{}"))
                        )
            case ev.OutputAudioBufferStarted():
                turns.audio_playing = True
            case ev.OutputAudioBufferStopped() | ev.OutputAudioBufferCleared():
                turns.audio_playing = False
            case ev.ErrorEvent(error=error):
                self._on_service_error(error)
            case ev.UnknownEvent():
                self.counters["unknown_events"] += 1
            case _:
                pass

    def _transcript(self, role: Role, item_id: str, text: str, final: bool) -> None:
        self._observer.on_transcript(
            TranscriptParams(
                role=role,
                item_id=item_id,
                text=text,
                final=final,
                session_id=self.session_id,
            )
        )

    def _on_service_error(self, error: ev.ErrorDetail) -> None:
        if error.code in BENIGN_ERROR_CODES:
            return
        self.counters["service_errors"] += 1
        log.warning("service error %s: %s", error.code, error.message)
        self._observer.on_diagnostics(
            DiagnosticsParams(
                session_id=self.session_id,
                message=f"The service reported: {error.message}",
                error_kind="protocol",
            )
        )

    def _on_transport_closed(self, reason: str) -> None:
        if self.state in ("closed", "failed"):
            return
        self._spawn(
            self._fail(
                media_error(
                    f"The connection to the realtime service was lost: {reason}.",
                    "VoicePilot will need a new session: start the conversation again.",
                )
            )
        )

    # ------------------------------------------------------------------ tools

    def _start_tool_call(self, call_id: str, name: str, arguments: str) -> None:
        if call_id in self._handled_calls:
            return
        self._handled_calls.add(call_id)
        self.turns.tools_in_flight += 1
        self._spawn(self._run_tool(call_id, name, arguments))

    async def _run_tool(self, call_id: str, name: str, raw_arguments: str) -> None:
        try:
            try:
                arguments = json.loads(raw_arguments or "{}")
                if not isinstance(arguments, dict):
                    raise ValueError("arguments are not an object")
            except ValueError as exc:
                self.counters["protocol_errors"] += 1
                output = json.dumps({"ok": False, "error": f"invalid arguments: {exc}"})
            else:
                try:
                    output = await self._observer.run_tool(
                        RunToolParams(call_id=call_id, name=name, arguments=arguments, session_id=self.session_id)
                    )
                except Exception as exc:  # the editor failed: tell the model rather than hang the turn
                    log.warning("tool %s failed: %s", name, exc)
                    output = json.dumps({"ok": False, "error": str(exc) or exc.__class__.__name__})
            self._send(
                ev.ConversationItemCreate(item={"type": "function_call_output", "call_id": call_id, "output": output})
            )
            self._request_response()
        except VoicePilotError as exc:
            log.warning("could not return the result of %s: %s", name, exc.message)
        finally:
            self.turns.tools_in_flight -= 1
            self.turns.update()

    def _request_response(self) -> None:
        self.turns.own_response_requests += 1
        self.turns.update()
        self._send(ev.ResponseCreate())

    # ------------------------------------------------------------------ plumbing

    def _send(self, event: ev.Event) -> None:
        if self._transport is None:
            raise protocol_error("The session is not connected.")
        self._transport.send(event.to_json(beta=self.endpoint.flavor == "preview"))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stats(self) -> dict[str, float]:
        stats: dict[str, float] = {name: float(value) for name, value in self.counters.items()}
        if self._transport is not None:
            stats["frames_received"] = float(self._transport.frames_received)
        stats["frames_sent"] = float(self.track.frames_sent)
        return stats
