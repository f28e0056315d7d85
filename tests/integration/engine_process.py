"""The real local engine as a child process, with known secrets and its control API."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from dataclasses import dataclass
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

    @classmethod
    async def start(cls, tmp_path: Path, *extra_args: str) -> EngineProcess:
        api_key, token = "test-" + secrets.token_hex(12), secrets.token_hex(12)
        stderr_path = tmp_path / f"engine-{secrets.token_hex(3)}.stderr.log"
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "voicepilot",
                "engine",
                "--port",
                "0",
                "--secrets-stdin",
                *extra_args,
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
        return cls(process, json.loads(line)["url"], api_key, token, stderr_path)

    async def control(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.url}/control/calls", headers={"X-VoicePilot-Control": self.control_token}) as response,
        ):
            assert response.status == 200, await response.text()
            payload: dict[str, Any] = await response.json()
            return payload

    async def stop(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
