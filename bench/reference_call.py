"""The CPU goal's reference: a full-duplex call with aiortc's defaults, measured beside the sidecar.

The goal is 5 % of one core against about 9 % for stock aiortc. The machine's speed varies over a
day, so the bench measures this call in the same run, right after the sidecar's, and reports both.
Each peer is a process (``python -m bench.reference_call offer|answer``), stock aiortc but for
loopback ICE, exchanging SDP as one JSON line each way through the parent; the offering peer prints
how many frames it sent and received, so a call in which no audio flowed cannot pass for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack

from bench.stats import sample
from voicepilot.audio.tracks import drain_track
from voicepilot.realtime.ice import loopback_ice
from voicepilot.tasks import TIMEOUT_ERRORS

RATE = 48_000
TONE_HZ = 440
REPO_ROOT = Path(__file__).resolve().parents[1]


class SineTrack(AudioStreamTrack):
    """aiortc's paced audio track, with a 440 Hz tone at -12 dBFS instead of silence."""

    def __init__(self) -> None:
        super().__init__()
        # One second of the tone: 440 whole periods, so it repeats seamlessly.
        t = np.arange(RATE) / RATE
        self._tone = (0.25 * 32767 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
        self._at = 0
        self.frames_sent = 0

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()  # paced silence: s16 mono 48 kHz, 20 ms
        assert isinstance(frame, av.AudioFrame)
        start = self._at % RATE
        frame.planes[0].update(self._tone[start : start + frame.samples].tobytes())
        self._at += frame.samples
        self.frames_sent += 1
        return frame


async def _read_line(reader: asyncio.StreamReader) -> str:
    line = await reader.readline()
    if not line:
        raise ConnectionError("the parent closed the pipe before the SDP exchange")
    return line.decode()


async def _stdin() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()  # a pipe to the parent, a few lines in all: blocking is not a concern here


async def peer(role: str) -> None:
    reader = await _stdin()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    tone = SineTrack()
    drains: set[asyncio.Task[int]] = set()  # each ends with the number of frames its track gave
    state: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        # Drained as MediaBlackhole drains it (an undrained remote track queues its frames without bound).
        drains.add(asyncio.ensure_future(drain_track(track)))

    @pc.on("connectionstatechange")
    def on_state() -> None:
        if pc.connectionState in ("connected", "failed", "closed") and not state.done():
            state.set_result(pc.connectionState)

    closing: asyncio.Task[bytes] | None = None
    try:
        if role == "offer":
            pc.createDataChannel("events")
            pc.addTrack(tone)
            with loopback_ice():
                await pc.setLocalDescription(await pc.createOffer())
            _say(json.dumps({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}))
            answer = json.loads(await _read_line(reader))
            await pc.setRemoteDescription(RTCSessionDescription(**answer))
        else:
            offer = json.loads(await _read_line(reader))
            await pc.setRemoteDescription(RTCSessionDescription(**offer))
            pc.addTrack(tone)
            with loopback_ice():
                await pc.setLocalDescription(await pc.createAnswer())
            _say(json.dumps({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}))
        closing = asyncio.ensure_future(reader.read())  # the parent writes nothing more: this ends at EOF
        either: set[asyncio.Future[Any]] = {state, closing}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not state.done() or state.result() != "connected":
            _say(state.result() if state.done() else "abandoned")
            return
        _say("connected")
        await closing  # the call runs until the parent closes stdin
        await pc.close()  # ends the remote tracks, and with them the drains, which give their counts
        received = sum(await asyncio.gather(*drains))
        _say(json.dumps({"framesSent": tone.frames_sent, "framesReceived": received}))
    finally:
        if closing is not None:
            closing.cancel()
        await pc.close()  # idempotent: also on the ways out that did not close it above
        await asyncio.gather(*drains, return_exceptions=True)


@dataclass(frozen=True)
class ReferenceRun:
    cpu_pct: float
    seconds: float
    frames_sent: int
    frames_received: int


@contextlib.asynccontextmanager
async def _peer_process(role: str) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.reference_call",
        role,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,  # where ``bench`` and ``tests`` are packages, whatever the caller's directory
    )
    try:
        yield process
    finally:
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TIMEOUT_ERRORS:
            with contextlib.suppress(ProcessLookupError):  # it may have exited just now
                process.kill()
            await process.wait()


async def _line(process: asyncio.subprocess.Process, timeout_s: float = 30.0) -> bytes:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout_s)
    if not line:
        raise RuntimeError(f"the reference peer exited early (rc={await process.wait()})")
    return line


async def measure(seconds: float, settle_s: float = 2.0) -> ReferenceRun:
    """The offering peer's CPU (% of one core) over ``seconds`` of the call, after ``settle_s``."""
    async with _peer_process("offer") as offer, _peer_process("answer") as answer:
        assert offer.stdin is not None
        assert answer.stdin is not None
        answer.stdin.write(await _line(offer))
        offer.stdin.write(await _line(answer))
        await offer.stdin.drain()
        await answer.stdin.drain()
        state = (await _line(offer)).decode().strip()
        if state != "connected":
            raise RuntimeError(f"the reference call did not connect: {state}")
        await asyncio.sleep(settle_s)  # media set up (codecs, first packets) is not the steady state
        before, started = sample(offer.pid), time.monotonic()
        await asyncio.sleep(seconds)  # a fixed window of the steady call: the measurement itself
        after, elapsed = sample(offer.pid), time.monotonic() - started
        offer.stdin.close()
        counts = json.loads(await _line(offer))
    return ReferenceRun(
        cpu_pct=100 * (after.cpu_s - before.cpu_s) / elapsed,
        seconds=elapsed,
        frames_sent=int(counts["framesSent"]),
        frames_received=int(counts["framesReceived"]),
    )


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("offer", "answer"):
        asyncio.run(peer(sys.argv[1]))
    elif len(sys.argv) == 3 and sys.argv[1] == "measure":
        print(json.dumps(dataclasses.asdict(asyncio.run(measure(float(sys.argv[2]))))))
    else:
        sys.exit("usage: python -m bench.reference_call offer|answer|measure SECONDS")
