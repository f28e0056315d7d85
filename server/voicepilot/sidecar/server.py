"""The sidecar's JSON-RPC surface: editor requests in, notifications and tool requests out.

Params of our methods arrive as plain dicts (see :mod:`voicepilot.sidecar.protocol`) and are
validated by the contract's pydantic models, so bad params get a JSON-RPC "invalid params" error
that says which field is wrong, and the sidecar keeps serving.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pydantic import ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from voicepilot import __version__
from voicepilot.audio.blocking import run_blocking
from voicepilot.audio.devices import Kind, find_device
from voicepilot.contract import models as contract
from voicepilot.contract.models import DiagnosticCheck, DiagnosticsParams, RunToolResult, WireModel
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.conversation.wire import (
    device_state_params,
    lifecycle_params,
    notice_params,
    state_params,
    tool_call_params,
    transcript_params,
)
from voicepilot.errors import VoicePilotError
from voicepilot.logs import register_secret
from voicepilot.realtime.observer import LifecycleEvent, Notice, StateChange, ToolCall, Transcript
from voicepilot.sidecar.protocol import raw_params_converter
from voicepilot.sidecar.runtime import describe_runtime, runtime_counts
from voicepilot.tasks import TaskGroup, Ticker

# Sessions, audio and probes bring aiortc, av, numpy and aiohttp: imported where they are first
# needed, so that the sidecar answers ``initialize`` without them (a quick start in every window).
if TYPE_CHECKING:
    from voicepilot.audio.voice import DeviceStateReport, LevelReport
    from voicepilot.conversation.live_audio import LiveAudio
    from voicepilot.realtime.session import RealtimeSession

log = logging.getLogger(__name__)

Model = TypeVar("Model", bound=WireModel)
STATS_INTERVAL_S = 1.0
# JSON-RPC server-defined error code for a classified VoicePilot error.
VOICEPILOT_ERROR_CODE = -32001


def classified(error: VoicePilotError) -> JsonRpcException:
    return JsonRpcException(
        error.describe(), VOICEPILOT_ERROR_CODE, {"errorKind": error.kind.value, "nextStep": error.next_step}
    )


def validate(model: type[Model], params: Any) -> Model:
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams(f"{model.__name__}: params must be an object.")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'params'}: {contract.error_message(error)}"
            for error in exc.errors()
        )
        # Not chained: the validation error's own text would reach the log with the input in it.
        raise JsonRpcInvalidParams(f"Invalid params for {model.__name__}: {problems}") from None


class EditorObserver:
    """Forwards one session's events to the editor."""

    def __init__(self, server: VoicePilotServer) -> None:
        self._server = server

    def on_state(self, change: StateChange) -> None:
        self._server.notify(contract.CONNECTION_STATE, state_params(change))

    def on_transcript(self, transcript: Transcript) -> None:
        self._server.notify(contract.TRANSCRIPT, transcript_params(transcript))

    def on_notice(self, notice: Notice) -> None:
        self._server.notify(contract.DIAGNOSTICS, notice_params(notice))

    def on_lifecycle(self, event: LifecycleEvent) -> None:
        # Renewals and handovers are invisible by design; the diagnostics panel shows them.
        self._server.notify(contract.DIAGNOSTICS, lifecycle_params(event))

    async def run_tool(self, call: ToolCall) -> str:
        result = await self._server.protocol.send_request_async(contract.RUN_TOOL, tool_call_params(call).wire())
        return validate(RunToolResult, result).output


class EditorAudioReporter:
    """Forwards one session's levels and device states to the editor."""

    def __init__(self, server: VoicePilotServer, session_id: str) -> None:
        self._server = server
        self._session_id = session_id

    def on_level(self, report: LevelReport) -> None:
        self._server.notify(
            contract.AUDIO_LEVEL,
            contract.AudioLevelParams(session_id=self._session_id, **report.__dict__),
        )

    def on_device_state(self, report: DeviceStateReport) -> None:
        # Only this notification: the editor lists its problems among the recent errors itself.
        self._server.notify(contract.DEVICE_STATE, device_state_params(report, self._session_id))


class VoicePilotServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("voicepilot-sidecar", __version__, converter_factory=raw_params_converter)
        self.engine = LocalEngineProcess()
        self.api_key: str | None = None
        self.turn_credential: str | None = None
        self.sessions: dict[str, RealtimeSession] = {}
        self._runs: dict[str, asyncio.Task[Any]] = {}
        # One live session per sidecar: startSession and endSession go one at a time, so requests
        # that race each other still leave exactly one (each new one replaces the last).
        self._one_at_a_time = asyncio.Lock()
        self.audio: dict[str, LiveAudio] = {}
        # Devices the user chose, by name (None: the system default), and the mute switch.
        self.selected: dict[Kind, str | None] = {"input": None, "output": None}
        self.muted = False
        self.last_error: VoicePilotError | None = None
        # The settings of the last conversation: what Run Connection Diagnostics probes.
        self.last_params: contract.StartSessionParams | None = None
        self._tasks = TaskGroup("sidecar")
        self._register()

    # ------------------------------------------------------------------ plumbing

    def notify(self, method: str, params: WireModel) -> None:
        self.protocol.notify(method, params.wire())

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Errors already answered in a response need no pop-up in the editor; log them.
        log.warning("%s: %s", getattr(source, "__name__", source), error)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro)

    def _handle(self, method: str, model: type[Model], handler: Callable[[Model], Awaitable[WireModel]]) -> None:
        async def feature(params: Any) -> dict[str, Any]:
            request = validate(model, params)
            try:
                result = await handler(request)
            except VoicePilotError as exc:
                self.last_error = exc
                raise classified(exc) from exc
            return result.wire()

        self.feature(method)(feature)

    def _register(self) -> None:
        self._handle(contract.START_SESSION, contract.StartSessionParams, self.start_session)
        self._handle(contract.END_SESSION, contract.EndSessionParams, self.end_session)
        self._handle(contract.PUSH_TO_TALK, contract.PushToTalkParams, self.push_to_talk)
        self._handle(contract.SET_CREDENTIALS, contract.SetCredentialsParams, self.set_credentials)
        self._handle(contract.RUN_DIAGNOSTICS, contract.RunDiagnosticsParams, self.run_diagnostics)
        self._handle(contract.LIST_DEVICES, contract.ListDevicesParams, self.list_devices)
        self._handle(contract.SELECT_DEVICES, contract.SelectDevicesParams, self.select_devices)
        self._handle(contract.SET_MUTE, contract.SetMuteParams, self.set_mute)
        self._handle(contract.SEND_TEXT, contract.SendTextParams, self.send_text)

        async def on_shutdown(params: Any) -> None:
            await self.close()

        # pygls registers plain functions only (it tags them), hence the closure.
        self.feature(types.SHUTDOWN)(on_shutdown)

    # ------------------------------------------------------------------ handlers

    async def start_session(self, params: contract.StartSessionParams) -> contract.StartSessionResult:
        async with self._one_at_a_time:
            for session in list(self.sessions.values()):
                await self._end(session, "a new session was started")
            return await self._start(params)

    async def _start(self, params: contract.StartSessionParams) -> contract.StartSessionResult:
        from voicepilot.conversation.launch import build_conversation

        session_id = "vp_" + uuid.uuid4().hex[:12]
        self.last_params = params
        if isinstance(params.input, contract.DeviceInput) and not params.input.name and self.selected["input"]:
            remembered = contract.DeviceInput(kind="device", name=self.selected["input"])
            params = params.model_copy(update={"input": remembered})
        session, audio = await build_conversation(
            session_id,
            params,
            self.api_key,
            self.engine,
            EditorObserver(self),
            EditorAudioReporter(self, session_id),
            self.selected["output"],
            turn_credential=self.turn_credential,
        )
        if audio is not None:
            audio.audio.set_muted(self.muted)
            self.audio[session_id] = audio
        self.sessions[session_id] = session
        self._runs[session_id] = self.spawn(self._run(session))
        return contract.StartSessionResult(session_id=session_id)

    async def _run(self, session: RealtimeSession) -> None:
        from voicepilot.conversation.launch import close_input

        try:
            await session.start()
            stats = self.spawn(self._push_stats(session))
            await session.ended.wait()
            stats.cancel()
        except VoicePilotError as exc:
            self.last_error = exc
        finally:
            # A session that failed (or was closed) must not keep the microphone or a file open.
            audio = self.audio.pop(session.session_id, None)
            if audio is not None:
                await audio.close()
            await close_input(session.source)
            self._runs.pop(session.session_id, None)

    async def _push_stats(self, session: RealtimeSession) -> None:
        ticker = Ticker(STATS_INTERVAL_S)
        while session.state not in ("closed", "failed"):
            await ticker.tick()
            try:
                stats = await session.stats()
            except Exception:  # stats are best effort: never let them end the loop
                log.exception("could not read session stats")
                continue
            audio = self.audio.get(session.session_id)
            if audio is not None:
                stats.update(audio.stats())
            echo = audio.audio.echo if audio is not None else None
            diagnostics = DiagnosticsParams(
                session_id=session.session_id,
                stats=stats,
                aiortc_hooks=session.aiortc_hooks(),
                pyaec_hooks=echo.hooks if echo is not None else None,
            )
            self.notify(contract.DIAGNOSTICS, diagnostics)

    async def end_session(self, params: contract.EndSessionParams) -> contract.EndSessionResult:
        async with self._one_at_a_time:
            targets = (
                [self.sessions[params.session_id]]
                if params.session_id in self.sessions
                else ([] if params.session_id else list(self.sessions.values()))
            )
            for session in targets:
                await self._end(session, "ended by the user")
            return contract.EndSessionResult(ended=bool(targets))

    async def _end(self, session: RealtimeSession, reason: str) -> None:
        from voicepilot.conversation.launch import close_input

        self.sessions.pop(session.session_id, None)
        run = self._runs.pop(session.session_id, None)
        if run is not None and session.state in ("idle", "authenticating", "connecting"):
            # Still connecting: stop that first, or it would go on connecting after the close.
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
        audio = self.audio.pop(session.session_id, None)
        if audio is not None:
            await audio.close()
        await session.close(reason)
        await close_input(session.source)  # the file's decoder and what it read ahead go now

    async def push_to_talk(self, params: contract.PushToTalkParams) -> contract.PushToTalkResult:
        session = next((s for s in self.sessions.values() if s.state == "connected"), None)
        if session is None:
            return contract.PushToTalkResult(accepted=False)
        audio = self.audio.get(session.session_id)
        if session.config.turn_detection is not None:
            # In conversation mode the service detects turns itself; a press only stops the assistant.
            stopped = audio.turns.stop_assistant() if audio is not None and params.pressed else False
            return contract.PushToTalkResult(accepted=stopped)
        if audio is not None:
            if params.pressed:
                await audio.turns.press()
            else:
                audio.turns.release()  # a press too short to be a turn is dropped quietly
        elif params.pressed:
            session.clear_input()
        else:
            session.commit_and_respond()
        return contract.PushToTalkResult(accepted=True)

    async def send_text(self, params: contract.SendTextParams) -> contract.SendTextResult:
        """A typed message into the connected session (the one named, else the only one)."""
        session = next(
            (
                s
                for s in self.sessions.values()
                if s.state in ("connected", "renewing") and params.session_id in (None, s.session_id)
            ),
            None,
        )
        if session is None:
            return contract.SendTextResult(accepted=False)
        session.send_text(params.text)
        return contract.SendTextResult(accepted=True)

    async def list_devices(self, params: contract.ListDevicesParams) -> contract.ListDevicesResult:
        from voicepilot.conversation.live_audio import device_listing

        return contract.ListDevicesResult(
            inputs=await device_listing("input"),
            outputs=await device_listing("output"),
            selected_input=self.selected["input"],
            selected_output=self.selected["output"],
        )

    async def select_devices(self, params: contract.SelectDevicesParams) -> contract.SelectDevicesResult:
        """Remember the devices by name; a running session switches to them at once."""
        from voicepilot.audio.voice import LIST_TIMEOUT_S

        live = next(iter(self.audio.values()), None)
        audio = live.audio if live is not None else None
        requests: tuple[tuple[Kind, str | None], ...] = (("input", params.input), ("output", params.output))
        for kind, requested in requests:
            if requested is None:
                continue
            name = requested or None
            # A session with that kind of device switches now (a file session keeps its file).
            if audio is not None and (kind == "output" or audio.uses_microphone):
                await audio.select(kind, name)
            else:
                await run_blocking(functools.partial(find_device, kind, name), LIST_TIMEOUT_S)
            self.selected[kind] = name
        selected = self.selected
        return contract.SelectDevicesResult(selected_input=selected["input"], selected_output=selected["output"])

    async def set_mute(self, params: contract.SetMuteParams) -> contract.SetMuteResult:
        self.muted = params.muted
        for live in self.audio.values():
            live.audio.set_muted(params.muted)
        return contract.SetMuteResult(muted=self.muted)

    async def set_credentials(self, params: contract.SetCredentialsParams) -> contract.SetCredentialsResult:
        if params.api_key is not None:
            register_secret(params.api_key)
        self.api_key = params.api_key
        if params.turn_credential is not None:
            register_secret(params.turn_credential)
        self.turn_credential = params.turn_credential
        return contract.SetCredentialsResult(stored=params.api_key is not None)

    async def run_diagnostics(self, params: contract.RunDiagnosticsParams) -> contract.RunDiagnosticsResult:
        from voicepilot.sidecar.probe import connection_checks, probe_connection

        checks = [DiagnosticCheck(name="sidecar", ok=True, detail=f"VoicePilot sidecar {__version__} is running.")]
        try:
            url, _ = await self.engine.ensure_started()
            checks.append(DiagnosticCheck(name="local engine", ok=True, detail=f"Listening on {url}."))
        except VoicePilotError as exc:
            checks.append(DiagnosticCheck(name="local engine", ok=False, detail=exc.message, next_step=exc.next_step))
        checks.append(DiagnosticCheck(name="runtime", ok=True, detail=describe_runtime(runtime_counts())))
        # The connection steps: from the running conversation, else from a short silent probe with
        # the last conversation's settings (the local engine before the first one).
        live = next((s for s in self.sessions.values() if s.state == "connected"), None)
        if live is not None:
            connection = await connection_checks(live)
        else:
            probe_params = (
                contract.StartSessionParams(profile=params.profile, connection=params.connection)
                if params.profile is not None
                else self.last_params or contract.StartSessionParams(profile="local")
            )
            connection = await probe_connection(probe_params, self.api_key, self.engine, self.turn_credential)
        checks += connection
        if all(check.ok for check in connection):
            self.last_error = None  # a working connection now makes an old failure history
        if self.last_error is not None:
            checks.append(
                DiagnosticCheck(
                    name="last error",
                    ok=False,
                    detail=self.last_error.message,
                    next_step=self.last_error.next_step,
                )
            )
        return contract.RunDiagnosticsResult(checks=checks)

    # ------------------------------------------------------------------ shutdown

    async def close(self) -> None:
        """End every session, task and child process. Runs on stdin EOF and on exit.

        Everything closes at once: the engine child is told to go while the sessions hang up.
        """
        sessions = [self._end(s, "the sidecar is shutting down") for s in list(self.sessions.values())]
        await asyncio.gather(self.engine.stop(), *sessions, return_exceptions=True)
        await self._tasks.close()
