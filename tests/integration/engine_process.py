"""The real local engine as a child process, with known secrets and its control API."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp


@dataclass
class EngineProcess:
    process: asyncio.subprocess.Process
    url: str
    api_key: str
    control_token: str
    stderr_path: Path
    args: tuple[str, ...] = field(default=())

    @classmethod
    async def start(
        cls, tmp_path: Path, *extra_args: str, api_key: str | None = None, control_token: str | None = None
    ) -> EngineProcess:
        api_key = api_key or "test-" + secrets.token_hex(12)
        token = control_token or secrets.token_hex(12)
        stderr_path = tmp_path / f"engine-{secrets.token_hex(3)}.stderr.log"
        args = ("--port", "0", *extra_args) if "--port" not in extra_args else extra_args
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "voicepilot",
                "engine",
                "--secrets-stdin",
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write((json.dumps({"apiKey": api_key, "controlToken": token}) + "\n").encode())
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert line, f"engine did not start: {stderr_path.read_text()}"
        return cls(process, json.loads(line)["url"], api_key, token, stderr_path, args)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method, f"{self.url}{path}", json=body, headers={"X-VoicePilot-Control": self.control_token}
            ) as response,
        ):
            assert response.status == 200, await response.text()
            payload: dict[str, Any] = await response.json()
            return payload

    async def control(self) -> dict[str, Any]:
        return await self._control("GET", "/control/calls")

    async def faults(self, **settings: Any) -> dict[str, Any]:
        return await self._control("POST", "/control/faults", settings)

    async def act(self, **actions: Any) -> dict[str, Any]:
        return await self._control("POST", "/control/actions", actions)

    def kill(self) -> None:
        """SIGKILL: the peer vanishes without a goodbye, as a crashed service would."""
        self.process.kill()

    async def restart(self, tmp_path: Path) -> EngineProcess:
        """A new engine on the same port with the same secrets (its keys and calls are new)."""
        await self.process.wait()
        args = list(self.args)
        args[args.index("--port") + 1] = str(self.port)
        return await EngineProcess.start(tmp_path, *args, api_key=self.api_key, control_token=self.control_token)

    async def stop(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
