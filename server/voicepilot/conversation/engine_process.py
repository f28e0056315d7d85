"""The local realtime engine as a child process: started on demand, on a free loopback port."""

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
from typing import TYPE_CHECKING

import voicepilot
from voicepilot.errors import network_error
from voicepilot.logs import register_secret
from voicepilot.tasks import TIMEOUT_ERRORS

if TYPE_CHECKING:  # realtime.keys brings aiohttp, which the sidecar needs only once it connects
    from voicepilot.realtime.keys import ApiKeyCredential

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
        from voicepilot.realtime.keys import ApiKeyCredential

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
