"""Turning a ``startSession`` request into a running :class:`RealtimeSession`.

Shared by the sidecar and ``voicepilot talk`` so both run exactly the same session code:
resolve the endpoint (starting the local engine when the profile is ``local`` and no URL is
set), pick the credential, open the audio input, build the session config.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import voicepilot
from voicepilot.audio.file_input import open_audio_file
from voicepilot.audio.tracks import FileFrameSource, FrameSource
from voicepilot.contract.models import ConnectionSettings, StartSessionParams
from voicepilot.contract.turn_detection import TurnDetection
from voicepilot.errors import auth_error, config_error, network_error
from voicepilot.logs import register_secret
from voicepilot.realtime.endpoints import Endpoint, resolve_endpoint
from voicepilot.realtime.entra import EntraCredential
from voicepilot.realtime.keys import ApiKeyCredential, Credential
from voicepilot.realtime.observer import SessionObserver
from voicepilot.realtime.session import RealtimeSession, SessionOptions
from voicepilot.realtime.session_config import DEFAULT_INSTRUCTIONS, SessionConfig
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

# Where the engine child starts: the folder that holds this package, never the caller's working
# directory (an editor's workspace, a cloned repository), whose modules `-m` would put first on
# sys.path. PYTHONSAFEPATH keeps even this folder off sys.path where Python has it (3.11+).
PACKAGE_PARENT = Path(voicepilot.__file__).resolve().parent.parent

ENGINE_START_TIMEOUT_S = 15.0
STOP_GRACE_S = 0.3  # then SIGKILL: the engine holds nothing worth waiting for


@dataclass(frozen=True)
class EngineOptions:
    key_ttl_s: float = 60.0
    session_limit_s: float | None = None


class LocalEngineProcess:
    """The local realtime engine as a child process on a free loopback port.

    Its API key is random per run and handed over on the child's stdin; closing that stdin
    (or our exit) ends the child.
    """

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        self.url: str | None = None
        self.credential: ApiKeyCredential | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def ensure_started(self) -> tuple[str, ApiKeyCredential]:
        async with self._lock:
            if self._process is not None and self._process.returncode is None and self.url and self.credential:
                return self.url, self.credential
            return await self._start()

    async def _start(self) -> tuple[str, ApiKeyCredential]:
        api_key = secrets.token_urlsafe(24)
        register_secret(api_key)
        # The child logs at our level, to our stderr (the editor's log channel, or the terminal).
        level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
        args = [
            sys.executable,
            "-m",
            "voicepilot",
            "--log-level",
            level,
            "engine",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--secrets-stdin",
            "--key-ttl",
            str(self.options.key_ttl_s),
        ]
        if self.options.session_limit_s is not None:
            args += ["--session-limit", str(self.options.session_limit_s)]
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            cwd=PACKAGE_PARENT,
            env={**os.environ, "PYTHONSAFEPATH": "1"},
        )
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write((json.dumps({"apiKey": api_key}) + "\n").encode())
        await process.stdin.drain()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), ENGINE_START_TIMEOUT_S)
            url = str(json.loads(line)["url"])
        except (TimeoutError, asyncio.TimeoutError, ValueError, KeyError) as exc:
            await self.stop()
            raise network_error(
                "The local realtime engine did not start.",
                "See VoicePilot's logs for the engine's error (missing system packages are named there).",
            ) from exc
        self.url, self.credential = url, ApiKeyCredential(api_key)
        log.info("local engine started at %s (pid %s)", url, process.pid)
        return url, self.credential

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the engine exits on EOF
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        except TIMEOUT_ERRORS:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def turn_detection_for(params: StartSessionParams) -> TurnDetection:
    vad = params.vad
    if vad is None:
        return TurnDetection()
    return TurnDetection(
        threshold=vad.threshold, prefix_padding_ms=vad.prefix_padding_ms, silence_duration_ms=vad.silence_duration_ms
    )


def session_config_for(params: StartSessionParams) -> SessionConfig:
    connection = params.connection
    config = SessionConfig(
        model=(connection.deployment if connection and connection.deployment else "gpt-realtime"),
        instructions=(connection.instructions if connection and connection.instructions else DEFAULT_INSTRUCTIONS),
        voice=(connection.voice if connection and connection.voice else "marin"),
        turn_detection=None if params.turn_taking == "pushToTalk" else turn_detection_for(params),
        tools=tuple(tool.model_dump(mode="json") for tool in params.tools),
    )
    return config


async def open_input(params: StartSessionParams) -> FrameSource | None:
    """The session's audio: a file, or the microphone (named, else the default), opened and running.

    Device errors (no PortAudio, no microphone, busy, permission denied) are raised here, so they
    answer the startSession request. PortAudio is loaded only for a device.
    """
    if params.input is None or params.input.kind == "device":
        from voicepilot.audio.voice import open_microphone

        return await open_microphone(params.input.name if params.input else None)
    return FileFrameSource(await open_audio_file(params.input.path, params.input.max_seconds))


async def close_input(source: FrameSource | None) -> None:
    """Let go of what an input holds: a microphone its device, a file its decoder (idempotent)."""
    close = getattr(source, "close", None)
    if close is not None:
        await close()


async def resolve(
    params: StartSessionParams, api_key: str | None, engine: LocalEngineProcess
) -> tuple[Endpoint, Credential]:
    connection = params.connection
    if params.profile == "local" and not (connection and connection.endpoint):
        url, credential = await engine.ensure_started()
        return resolve_endpoint("local", connection, local_url=url), credential
    endpoint = resolve_endpoint(params.profile, connection)
    if connection is not None and connection.auth == "entra":
        if params.profile != "azure":
            raise config_error(
                "Microsoft Entra ID sign-in works with the azure profile only.",
                "Set voicepilot.profile to azure, or voicepilot.azure.auth to apiKey.",
            )
        return endpoint, EntraCredential()
    if not api_key:
        raise auth_error(
            f"No API key is set for the {params.profile} profile.",
            "Run 'VoicePilot: Set API Key' (or use the local engine).",
        )
    return endpoint, ApiKeyCredential(api_key)


async def build_session(
    session_id: str,
    params: StartSessionParams,
    api_key: str | None,
    engine: LocalEngineProcess,
    observer: SessionObserver,
) -> RealtimeSession:
    """Everything up to (not including) connecting. Raises a classified error on bad input."""
    source = await open_input(params)
    try:
        endpoint, credential = await resolve(params, api_key, engine)
    except BaseException:
        await close_input(source)
        raise
    return RealtimeSession(
        session_id, endpoint, credential, session_config_for(params), observer, source, session_options_for(params)
    )


def session_options_for(params: StartSessionParams) -> SessionOptions:
    connection = params.connection or ConnectionSettings()
    defaults = SessionOptions()
    return SessionOptions(
        renew_interval_s=connection.renew_interval_s or defaults.renew_interval_s,
        max_session_s=connection.max_session_s,
        transport=connection.transport or defaults.transport,
    )
