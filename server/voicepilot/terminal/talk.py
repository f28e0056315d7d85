"""``voicepilot talk``: the sidecar's session code, driven from a terminal.

It prints state changes, transcripts and tool calls (``--json``: one object per line) and exits
0 after the reply to the last utterance of the input (or to the message typed with ``--text``),
non-zero with a clear message on failure. With no editor attached, tool calls are acknowledged
but not carried out. With ``--mic`` it talks through the microphone and speaker until ``q`` or
Ctrl-D (:mod:`voicepilot.terminal.talk_live`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from voicepilot.audio.voice import DeviceStateReport, LevelReport
from voicepilot.contract.models import ConnectionSettings, DeviceInput, DeviceOutput, FileInput, StartSessionParams
from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.conversation.engine_process import EngineOptions, LocalEngineProcess
from voicepilot.conversation.launch import build_conversation, close_input
from voicepilot.conversation.wire import (
    device_state_params,
    notice_params,
    state_params,
    tool_call_params,
    transcript_params,
)
from voicepilot.errors import VoicePilotError
from voicepilot.logs import held, register_secret
from voicepilot.realtime.observer import LifecycleEvent, Notice, StateChange, ToolCall, Transcript
from voicepilot.tasks import wait_first
from voicepilot.terminal.talk_live import run_live

NO_EDITOR_OUTPUT = json.dumps({"ok": True, "note": "voicepilot talk has no editor attached; not carried out"})


class TerminalObserver:
    def __init__(self, as_json: bool) -> None:
        self._json = as_json

    def _emit(self, kind: str, fields: dict[str, Any], line: str) -> None:
        # A service's error may quote the key from VOICEPILOT_API_KEY: the terminal gets no more of it.
        if self._json:
            sys.stdout.write(json.dumps(held.redact_json({"type": kind, **fields})) + "\n")
        else:
            sys.stdout.write(held.redact(line) + "\n")
        sys.stdout.flush()

    def on_state(self, change: StateChange) -> None:
        reason = f" ({change.reason})" if change.reason else ""
        self._emit("state", state_params(change).wire(), f"[state] {change.previous} -> {change.state}{reason}")

    def on_transcript(self, transcript: Transcript) -> None:
        if transcript.final or self._json:
            self._emit(
                "transcript",
                transcript_params(transcript).wire(),
                f"[{transcript.role}] {transcript.text}" if transcript.final else "",
            )

    def on_notice(self, notice: Notice) -> None:
        self._emit("diagnostics", notice_params(notice).wire(), f"[diagnostics] {notice.message}")

    def on_lifecycle(self, event: LifecycleEvent) -> None:
        fields = event.fields
        if event.kind == "key_renewed":
            line = f"[key] fresh ephemeral key, valid for {fields['expiresAt'] - time.time():.0f} s"
        elif event.kind == "handover":
            line = f"[handover] to a fresh session, {fields['gapMs']:g} ms gap"
        else:
            line = f"[reconnected] after {fields['attempts']:g} attempt(s)"
        self._emit(event.kind, dict(fields), line)

    def on_level(self, report: LevelReport) -> None:
        pass  # a terminal has no level meter

    def on_device_state(self, report: DeviceStateReport) -> None:
        what = "microphone" if report.kind == "input" else "speaker"
        line = f"[device] {what} {report.previous} -> {report.state}: {report.message}"
        self._emit("device_state", device_state_params(report).wire(), line)

    async def run_tool(self, call: ToolCall) -> str:
        self._emit("tool_call", tool_call_params(call).wire(), f"[tool] {call.name}({json.dumps(call.arguments)})")
        return NO_EDITOR_OUTPUT

    def error(self, error: VoicePilotError) -> None:
        fields = {"errorKind": error.kind.value, "message": error.message, "nextStep": error.next_step}
        if self._json:
            self._emit("error", fields, "")
        else:
            sys.stderr.write(held.redact(f"voicepilot: {error.describe()}\n"))


async def run_talk(args: argparse.Namespace) -> int:
    observer = TerminalObserver(args.json)
    mic = bool(getattr(args, "mic", False))
    text: str | None = getattr(args, "text", None)
    speaker = None if text is not None else getattr(args, "speaker", None)
    params = StartSessionParams(
        profile=args.profile,
        input=(
            None
            if text is not None
            else DeviceInput(kind="device", name=args.device)
            if mic
            else FileInput(kind="file", path=args.input)
        ),
        output=DeviceOutput(kind="device", name=speaker) if speaker or mic else None,
        modality="text" if text is not None else "voice",
        turn_taking="pushToTalk" if mic and not args.vad else "vad",
        barge_in=bool(getattr(args, "barge_in", False)),
        echo_cancellation=bool(getattr(args, "echo_cancellation", True)),
        tools=list(EDITOR_TOOLS),
        connection=ConnectionSettings(
            endpoint=args.endpoint,
            deployment=args.deployment,
            api_flavor=args.api_flavor,
            region=args.region,
            renew_interval_s=args.renew_interval,
            max_session_s=args.max_session,
            transport=args.transport,
        ),
    )
    # A terminal has no SecretStorage: the CLI alone reads the key from the environment.
    api_key = os.environ.get("VOICEPILOT_API_KEY")
    if api_key:
        register_secret(api_key)
    engine = LocalEngineProcess(EngineOptions(key_ttl_s=args.key_ttl, session_limit_s=args.session_limit))
    session = None
    audio = None
    try:
        session, audio = await build_conversation("talk", params, api_key, engine, observer, observer, speaker)
        await session.start()
        if mic and audio is not None:
            await run_live(session, audio.turns, push_to_talk=params.turn_taking == "pushToTalk")
            if session.failure is not None:
                raise session.failure
            return 0
        if text is not None:
            session.send_text(text)
        finished = getattr(session.source, "finished", None)
        if finished is not None:
            await wait_first(finished, session.ended)
        await wait_first(session.quiet, session.ended)
        if session.failure is not None:
            raise session.failure
        return 0
    except VoicePilotError as exc:
        observer.error(exc)
        return 1
    finally:
        if audio is not None:
            await audio.close()
        if session is not None:
            await session.close()
            await close_input(session.source)
        await engine.stop()
