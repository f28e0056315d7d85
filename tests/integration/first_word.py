"""Sessions on real (virtual) devices: a command said at a given moment of the start, and an idle one.

``say_at_start`` starts a session in a running sidecar, says "go to line forty two" into the
virtual microphone while the session is still connecting or a given time after ``connected``, and
tells whether it was heard whole (the transcript and the tool call). ``idle_session`` keeps a
session quiet with its speaker on a sink nobody else plays to, and returns the device alarms the
user would have seen. Used by tests/integration/test_busy_machine.py and the bench.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.pulse import MIC, MonitorRecorder, PulseAudio
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from voicepilot.contract.tools import EDITOR_TOOLS

CONNECTING = "connecting"
STARTS: tuple[str | int, ...] = (CONNECTING, 0, 300, 1000)  # during connecting, or ms after connected
PHRASE = "go_to_line_42.wav"
HEARD = "go to line forty two"
CALL = ("go_to_line", {"line": 42})
IDLE_SINK = "idle_speaker"  # a null sink with no other client: it idles as a real one does


@dataclass
class Outcome:
    start: str | int
    heard: list[str]
    calls: list[tuple[str, Any]]
    stats: dict[str, Any]
    device_alarms: list[dict[str, Any]]
    # How the engine heard the session's turns (audioMs tells a clipped command from a misheard one).
    engine_turns: list[dict[str, Any]] = field(default_factory=list)
    # The longest silence inside the speech that a recorder of the virtual microphone, beside the
    # sidecar, got (ms): a hole there is the player's or the sound server's, not the sidecar's.
    mic_hole_ms: int | None = None

    @property
    def whole(self) -> bool:
        return self.heard == [HEARD] and self.calls == [CALL]


async def _ok_tool(params: dict[str, Any]) -> dict[str, Any]:
    return {"output": json.dumps({"ok": True})}


def longest_hole_ms(chunks: list[Any], threshold: int = 300) -> int:
    """The longest run of quiet 10 ms chunks between the first and the last loud one."""
    loud = [int(abs(chunk).max()) > threshold for chunk in chunks if len(chunk)]
    if True not in loud:
        return 0
    inside = loud[loud.index(True) : len(loud) - loud[::-1].index(True)]
    longest = run = 0
    for is_loud in inside:
        run = 0 if is_loud else run + 1
        longest = max(longest, run)
    return longest * MonitorRecorder.CHUNK * 1000 // 48_000


class Sessions:
    """Sessions one after another in one sidecar, each one's notifications told apart by position."""

    def __init__(self, sidecar: SidecarClient, engine: EngineProcess) -> None:
        self.sidecar = sidecar
        self.engine = engine
        self._mark = 0
        self._calls = 0

    async def prepare(self) -> None:
        self.sidecar.tool_handler = _ok_tool
        await self.sidecar.request("voicepilot/setCredentials", {"apiKey": self.engine.api_key})

    def since(self, method: str) -> list[dict[str, Any]]:
        return [n.params for n in self.sidecar.notifications[self._mark :] if n.method == method]

    def reached(self, state: str) -> bool:
        return any(p["state"] == state for p in self.since("voicepilot/connectionState"))

    def heard(self) -> list[str]:
        return [p["text"] for p in self.since("voicepilot/transcript") if p["role"] == "user" and p["final"]]

    def calls(self) -> list[tuple[str, Any]]:
        return [(r["name"], r["arguments"]) for r in self.sidecar.tool_requests[self._calls :]]

    def stats(self) -> dict[str, Any]:
        pushed = [d["stats"] for d in self.since("voicepilot/diagnostics") if d.get("stats")]
        return pushed[-1] if pushed else {}

    def device_alarms(self) -> list[dict[str, Any]]:
        """What the user would be warned of: device state changes, and diagnostics naming an error."""
        return self.since("voicepilot/deviceState") + [
            d for d in self.since("voicepilot/diagnostics") if d.get("errorKind")
        ]

    def begin(self, **params: Any) -> asyncio.Future[Any]:
        self._mark, self._calls = len(self.sidecar.notifications), len(self.sidecar.tool_requests)
        request = {
            "profile": "local",
            "input": {"kind": "device"},
            "tools": [tool.wire() for tool in EDITOR_TOOLS],
            "connection": {"endpoint": self.engine.url},
            **params,
        }
        return asyncio.ensure_future(self.sidecar.request("voicepilot/startSession", request))

    async def end(self, starting: asyncio.Future[Any]) -> None:
        result = await starting
        await self.sidecar.request("voicepilot/endSession", {"sessionId": result["sessionId"]})
        await self.sidecar.wait_for(lambda: self.reached("closed"), timeout=10)

    async def say_at_start(self, pulse: PulseAudio, samples: Path, start: str | int) -> Outcome:
        async with MonitorRecorder(pulse, source=MIC) as heard_by_another:
            outcome = await self._say_at_start(pulse, samples, start)
        if not outcome.whole:
            outcome.mic_hole_ms = longest_hole_ms([chunk for _, chunk in heard_by_another.chunks])
        return outcome

    async def _say_at_start(self, pulse: PulseAudio, samples: Path, start: str | int) -> Outcome:
        starting = self.begin()
        try:
            if start == CONNECTING:
                await self.sidecar.wait_for(lambda: self.reached(CONNECTING), timeout=20)
            else:
                await self.sidecar.wait_for(lambda: self.reached("connected"), timeout=20)
                # The moment the person starts talking (the stimulus, not a wait for an event).
                await asyncio.sleep(int(start) / 1000)
            await pulse.say(samples / PHRASE)
            try:
                await self.sidecar.wait_for(self.heard, timeout=15)
                if self.heard() == [HEARD]:
                    await self.sidecar.wait_for(self.calls, timeout=15)
            except TimeoutError:
                pass  # reported as not heard whole
            outcome = Outcome(start, self.heard(), self.calls(), self.stats(), self.device_alarms())
            if not outcome.whole:
                outcome.engine_turns = (await self.engine.control())["calls"][-1]["turns"]
            return outcome
        finally:
            await self.end(starting)

    async def idle_session(self, pulse: PulseAudio, seconds: float) -> Outcome:
        """A session nobody speaks in, its speaker on ``IDLE_SINK``; the alarms it raised."""
        module = pulse.pactl("load-module", "module-null-sink", f"sink_name={IDLE_SINK}").strip()
        try:
            starting = self.begin(output={"kind": "device", "name": IDLE_SINK})
            try:
                await self.sidecar.wait_for(lambda: self.reached("connected"), timeout=20)
                # Idle for ``seconds``, unless an alarm comes first (then it has failed already).
                with contextlib.suppress(TimeoutError):
                    await self.sidecar.wait_for(self.device_alarms, timeout=seconds)
                return Outcome("idle", self.heard(), self.calls(), self.stats(), self.device_alarms())
            finally:
                await self.end(starting)
        finally:
            pulse.pactl("unload-module", module)
