"""A small JSON-RPC client with LSP framing: what the editor does, without VS Code.

It starts the real sidecar process, answers its ``voicepilot/runTool`` requests with a handler
the test provides, and records every notification with the time it arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ToolHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.code: int = error.get("code", 0)
        self.message: str = error.get("message", "")
        self.data: Any = error.get("data")


@dataclass
class Notification:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class SidecarClient:
    process: asyncio.subprocess.Process
    stderr_path: Path
    notifications: list[Notification] = field(default_factory=list)
    tool_requests: list[dict[str, Any]] = field(default_factory=list)
    tool_handler: ToolHandler | None = None
    # Answers that match no request of ours: errors about messages the sidecar could not read.
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader_task: asyncio.Task[None] | None = None
    _answering: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    async def start(
        cls, tmp_path: Path, extra_env: dict[str, str] | None = None, initialize: bool = True
    ) -> SidecarClient:
        stderr_path = tmp_path / "sidecar.stderr.log"
        env = dict(os.environ, **(extra_env or {}))
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "voicepilot",
                "--log-level",
                "DEBUG",
                "sidecar",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        client = cls(process, stderr_path)
        client._reader_task = asyncio.ensure_future(client._read_loop())
        if initialize:
            await client.initialize()
        return client

    async def initialize(self) -> None:
        await self.request("initialize", {"processId": os.getpid(), "capabilities": {}, "rootUri": None})
        await self.notify("initialized", {})

    # ------------------------------------------------------------------ wire

    async def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        await self.write_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def write_raw(self, data: bytes) -> None:
        """Bytes as they are, framing included: for tests of what a broken client sends."""
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        await self.process.stdin.drain()

    async def _read_loop(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                headers: dict[str, str] = {}
                while True:
                    line = await stdout.readline()
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await stdout.readexactly(int(headers["content-length"]))
                await self._dispatch(json.loads(body))
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("sidecar closed its stdout"))
            async with self._changed:
                self._changed.notify_all()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" not in message:
            future = self._pending.pop(message["id"], None)
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(RpcError(message["error"]))
                else:
                    future.set_result(message.get("result"))
                return
            async with self._changed:
                self.unmatched.append(message)
                self._changed.notify_all()
            return
        if "id" in message:  # a request from the sidecar
            task = asyncio.ensure_future(self._answer(message))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
            return
        async with self._changed:
            self.notifications.append(Notification(message["method"], message.get("params") or {}, time.monotonic()))
            self._changed.notify_all()

    async def _answer(self, message: dict[str, Any]) -> None:
        if message["method"] == "voicepilot/runTool" and self.tool_handler is not None:
            self.tool_requests.append(message["params"])
            async with self._changed:
                self._changed.notify_all()
            result = await self.tool_handler(message["params"])
            await self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})
        else:
            await self._write(
                {
                    "jsonrpc": "2.0",
                    "id": message["id"],
                    "error": {"code": -32601, "message": "not handled by the test client"},
                }
            )

    async def request(self, method: str, params: Any, timeout: float = 30.0) -> Any:
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        await self._write({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await asyncio.wait_for(future, timeout)

    async def notify(self, method: str, params: Any) -> None:
        await self._write({"jsonrpc": "2.0", "method": method, "params": params})

    # ------------------------------------------------------------------ waiting

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate()`` is truthy, re-checking on every message (no polling)."""

        async def wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    if self.process.stdout is not None and self._reader_task and self._reader_task.done():
                        raise ConnectionError("the sidecar exited while the test was waiting")
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(wait(), timeout)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [n.params for n in self.notifications if n.method == method]

    def last_stats(self) -> dict[str, Any]:
        """The last stats the sidecar pushed (``voicepilot/diagnostics``, about once a second)."""
        pushed = [d["stats"] for d in self.of("voicepilot/diagnostics") if d.get("stats")]
        return pushed[-1] if pushed else {}

    def states(self) -> list[str]:
        return [p["state"] for p in self.of("voicepilot/connectionState")]

    async def wait_state(self, *states: str, timeout: float = 30.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((p for p in self.of("voicepilot/connectionState") if p["state"] in states), None)

        result: dict[str, Any] = await self.wait_for(found, timeout)
        return result

    def final_transcripts(self, role: str) -> list[str]:
        return [p["text"] for p in self.of("voicepilot/transcript") if p["role"] == role and p["final"]]

    # ------------------------------------------------------------------ shutdown

    async def close_stdin_and_wait(self) -> float:
        """Close stdin as a dying editor would; returns how long the process took to exit."""
        assert self.process.stdin is not None
        started = time.monotonic()
        self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), 5)
        return time.monotonic() - started

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await self.close_stdin_and_wait()
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader_task is not None:
            await asyncio.gather(self._reader_task, return_exceptions=True)

    def memory_kb(self) -> tuple[int, int]:
        """The process's resident memory now and at its peak (VmRSS, VmHWM), in kB."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace")
