"""Audio benchmarks: what the WebRTC hop and the sidecar's own audio path add, and what they cost.

``scripts/bench-audio [--quick] [--json PATH]`` runs them; :func:`run` is what a larger bench calls.
Three measurements: WebRTC one way through a loopback echo (two peer connections in this process,
aiortc's default receive buffer against :mod:`voicepilot.audio.jitter`'s); the sidecar's device path
on a private PulseAudio (capture -> wire and wire -> playback, each beside ``parec``/``pacat`` as the
reference); and the sidecar streaming full duplex against the local engine (CPU and RSS).
docs/benchmarks.md describes each clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection

from bench.echo_room import db, erle, far_and_echo, pcm, simulate, user_over, voice_band_db
from bench.stats import one_way_latencies, percentile, sample
from bench.stats import onsets as sound_onsets
from tests.fixtures.pulse import MIC, MIC_FEED, RATE, MonitorRecorder, PulseAudio
from voicepilot.audio.echo import EchoCanceller, PyAecEngine
from voicepilot.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Pcm, frame_to_mono, make_frame
from voicepilot.audio.receive_tuning import tune_audio_receivers
from voicepilot.audio.tracks import PacedAudioTrack, drain_track
from voicepilot.realtime.ice import loopback_ice

LOUD = 3000
CLICK: Pcm = (np.sin(2 * np.pi * 1000 * np.arange(FRAME_SAMPLES) / SAMPLE_RATE) * 10000).astype(np.int16)
CLICK_EVERY = 15  # frames (300 ms): one click at a time in flight


def summary(values_s: list[float]) -> dict[str, float]:
    ms = [1000 * v for v in values_s]
    return {"n": len(ms), "p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1)}


# ----------------------------------------------------------------------------- 1. WebRTC one way


class ClickSource:
    """A click every ``CLICK_EVERY`` frames, silence otherwise; remembers when each left."""

    def __init__(self, clicks: int) -> None:
        self.left: list[float] = []
        self._frames = 0
        self._clicks = clicks

    def next_frame(self) -> Pcm | None:
        self._frames += 1
        if self._frames % CLICK_EVERY == 0 and len(self.left) < self._clicks:
            self.left.append(time.monotonic())
            return CLICK
        return None


class EchoTrack(MediaStreamTrack):
    """Sends back each frame the echo peer receives, as soon as it arrives."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[Pcm] = asyncio.Queue(maxsize=50)
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        samples = await self.queue.get()
        frame = make_frame(samples, self._pts)
        self._pts += samples.size
        return frame


def loud(frame: av.AudioFrame) -> bool:
    return int(np.abs(frame_to_mono(frame)).max()) > LOUD


async def _connect(a: RTCPeerConnection, b: RTCPeerConnection, low_latency: bool) -> None:
    with loopback_ice():
        await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    if low_latency:
        tune_audio_receivers(b)
    with loopback_ice():
        await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    if low_latency:
        tune_audio_receivers(a)


async def rtc_one_way(low_latency: bool, clicks: int) -> dict[str, dict[str, float]]:
    a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    source, echo = ClickSource(clicks), EchoTrack()
    at_b: list[float] = []
    at_a: list[float] = []
    done = asyncio.Event()
    tasks: list[asyncio.Task[int]] = []

    def on_b(frame: av.AudioFrame) -> None:
        if loud(frame):
            at_b.append(time.monotonic())
        with contextlib.suppress(asyncio.QueueFull):
            echo.queue.put_nowait(frame_to_mono(frame))

    def on_a(frame: av.AudioFrame) -> None:
        if loud(frame):
            at_a.append(time.monotonic())
            if len(source.left) == clicks and at_a[-1] > source.left[-1]:
                done.set()

    b.addTrack(echo)
    a.addTrack(PacedAudioTrack(source))
    a.on("track", lambda track: tasks.append(asyncio.ensure_future(drain_track(track, on_a))))
    b.on("track", lambda track: tasks.append(asyncio.ensure_future(drain_track(track, on_b))))
    try:
        await _connect(a, b, low_latency)
        # Until the last click came back (a click lost on the way is left out, not waited for).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), clicks * CLICK_EVERY * 0.02 + 20)
    finally:
        await a.close()
        await b.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    left = source.left
    return {
        "a_to_b": summary(pair(left, at_b)),
        "b_to_a": summary(pair(onsets(at_b), at_a)),
        "round_trip": summary(pair(left, at_a)),
    }


GAP_S = 0.1  # frames this far apart belong to different clicks (they come every 300 ms)
WINDOW_S = 0.25  # a click that has not arrived by then was lost


def onsets(times: list[float]) -> list[float]:
    return sound_onsets(times, GAP_S)


def pair(departures: list[float], arrivals: list[float]) -> list[float]:
    """Each click's departure with the first frame of it that arrived, within the window."""
    return one_way_latencies(departures, arrivals, GAP_S, WINDOW_S)


# ----------------------------------------------------------------------------- 2. the device path


@dataclass
class ClickTimes:
    times: list[float] = field(default_factory=list)

    def add_if_loud(self, samples: Pcm) -> None:
        if int(np.abs(samples).max()) > LOUD:
            self.times.append(time.monotonic())


async def _pacat_clicks(pulse: PulseAudio, clicks: int) -> None:
    """Play clicks (one every 300 ms) into the virtual microphone through pacat's stdin."""
    silence = np.zeros(FRAME_SAMPLES * (CLICK_EVERY - 1), dtype=np.int16)
    audio = np.concatenate([np.concatenate([CLICK, silence]) for _ in range(clicks)]).tobytes()
    player = await asyncio.create_subprocess_exec(
        "pacat", "--playback", "-d", MIC_FEED, "--latency-msec=10", "--format=s16le", f"--rate={RATE}",
        "--channels=1", "--raw", stdin=asyncio.subprocess.PIPE, env=dict(os.environ, **pulse.env),
    )  # fmt: skip
    assert player.stdin is not None
    player.stdin.write(audio)
    await player.stdin.drain()
    player.stdin.close()
    await player.wait()


async def capture_to_wire(pulse: PulseAudio, clicks: int) -> dict[str, float]:
    from voicepilot.audio.voice import open_microphone

    mic = await open_microphone(None)
    track = PacedAudioTrack(mic)
    wire = ClickTimes()

    async def pull() -> None:
        while True:
            frame = await track.recv()
            wire.add_if_loud(frame_to_mono(frame))

    puller = asyncio.ensure_future(pull())
    try:
        # parec records the same virtual microphone: what both see is PulseAudio's; the rest is ours.
        async with MonitorRecorder(pulse, source=MIC, threshold=LOUD) as monitor:
            await _pacat_clicks(pulse, clicks)
            await monitor.wait_for(lambda: len(onsets(wire.times)) >= clicks, timeout=10)
    finally:
        puller.cancel()
        await asyncio.gather(puller, return_exceptions=True)
        await mic.close()
    heard = onsets(monitor.loud_times())
    result = summary(pair(heard, wire.times))
    result["device_input_latency_ms"] = round(1000 * mic.latency_s, 1)
    return result


async def _clicks_to_speaker(pulse: PulseAudio, clicks: int, write: Callable[[Pcm], None]) -> list[float]:
    """Frames handed to ``write`` as a network delivers them (50 a second); one-way times of the clicks."""
    written: list[float] = []
    async with MonitorRecorder(pulse, threshold=LOUD) as monitor:
        start = time.monotonic()
        for i in range(clicks * CLICK_EVERY):
            await asyncio.sleep(max(0.0, start + i * 0.02 - time.monotonic()))
            click = i % CLICK_EVERY == CLICK_EVERY - 1
            if click:
                written.append(time.monotonic())
            write(CLICK if click else np.zeros(FRAME_SAMPLES, dtype=np.int16))
        await monitor.wait_for(lambda: len(onsets(monitor.loud_times())) >= clicks, timeout=10)
    return pair(written, monitor.loud_times())


async def wire_to_playback(pulse: PulseAudio, clicks: int) -> dict[str, float]:
    from voicepilot.audio.voice import open_speaker

    # The reference: pacat at 10 ms latency, fed the same way. What it takes is PulseAudio's.
    player = await asyncio.create_subprocess_exec(
        "pacat", "--playback", "-d", "speaker", "--latency-msec=10", "--format=s16le", f"--rate={RATE}",
        "--channels=1", "--raw", stdin=asyncio.subprocess.PIPE, env=dict(os.environ, **pulse.env),
    )  # fmt: skip
    assert player.stdin is not None
    stdin = player.stdin
    try:
        reference = await _clicks_to_speaker(pulse, clicks, lambda samples: stdin.write(samples.tobytes()))
    finally:
        stdin.close()
        await player.wait()
    speaker = await open_speaker(None)
    try:
        ours = await _clicks_to_speaker(pulse, clicks, speaker.write)
    finally:
        await speaker.close()
    result = summary(ours)
    result["reference_pacat_p50"] = summary(reference)["p50"]
    result["device_output_latency_ms"] = round(1000 * speaker.latency_s, 1)
    result["underruns"] = speaker.underruns
    return result


# ----------------------------------------------------------------------------- 3. the sidecar streaming


async def sidecar_streaming(pulse: PulseAudio, workdir: Path, seconds: float) -> dict[str, float]:
    """The real sidecar with microphone and speaker, in a conversation with the engine (silence both ways
    but for the engine's comfort: the full-duplex Opus stream is what costs)."""
    from tests.integration.engine_process import EngineProcess
    from tests.integration.rpc import SidecarClient

    engine = await EngineProcess.start(workdir)
    sidecar = await SidecarClient.start(workdir)
    try:
        await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
        await sidecar.request(
            "voicepilot/startSession",
            {"profile": "local", "input": {"kind": "device"}, "connection": {"endpoint": engine.url}},
        )
        await sidecar.wait_state("connected")
        pid = sidecar.process.pid
        before, started = sample(pid), time.monotonic()
        rss = [before.rss_mb]
        while time.monotonic() - started < seconds:
            await asyncio.sleep(min(10.0, seconds - (time.monotonic() - started)))
            rss.append(sample(pid).rss_mb)
        after, elapsed = sample(pid), time.monotonic() - started
        last = sidecar.last_stats()
    finally:
        await sidecar.stop()
        await engine.stop()
    return {
        "seconds": round(elapsed, 1),
        "cpu_pct_of_one_core": round(100 * (after.cpu_s - before.cpu_s) / elapsed, 1),
        "rss_start_mb": round(rss[0], 1),
        "rss_end_mb": round(rss[-1], 1),
        "mic_frames_dropped": last.get("micFramesDropped", 0),
        "speaker_underruns": last.get("speakerUnderruns", 0),
    }


# ----------------------------------------------------------------------------- echo cancellation


def echo_cancellation() -> dict[str, dict[str, float]]:
    """The echo canceller on the synthetic room (bench/echo_room.py), at 16 kHz (used) and 48 kHz.

    CPU is the canceller's own thread time per processed frame, as % of one core while it is active;
    the user's level change is over "go to line 42" said on top of the echo (300 Hz-8 kHz and all bands).
    """
    results: dict[str, dict[str, float]] = {}
    far, echo = far_and_echo()
    user, spoken = user_over(echo)
    # The adaptive filter alone at each rate, then what ships: 16 kHz and the residual echo suppressor.
    configs = (
        ("16k", 16_000, False, False),
        ("16k_preprocess", 16_000, True, False),
        ("48k", 48_000, False, False),
        ("16k_suppressor", 16_000, False, True),
    )
    for name, rate, preprocess, suppress in configs:

        def canceller(rate: int = rate, preprocess: bool = preprocess, suppress: bool = suppress) -> EchoCanceller:
            return EchoCanceller(engine=PyAecEngine(rate=rate, preprocess=preprocess), suppress=suppress)

        run = simulate(far, echo, canceller=canceller())
        talk = simulate(far, pcm(echo + user), canceller=canceller())
        processed = max(run.canceller.frames_processed, 1)
        results[name] = {
            "erle_db": round(erle(echo, run.out), 1),
            "cpu_pct_of_one_core": round(100 * run.canceller.cpu_s / (processed * FRAME_MS / 1000), 2),
            "user_voice_band_db": round(voice_band_db(talk.out[spoken]) - voice_band_db(user[spoken]), 1),
            "user_all_bands_db": round(db(talk.out[spoken]) - db(user[spoken]), 1),
        }
    return results


# ----------------------------------------------------------------------------- running it


@contextlib.asynccontextmanager
async def private_pulse() -> AsyncIterator[PulseAudio]:
    with tempfile.TemporaryDirectory(prefix="vp-bench-pulse-") as runtime:
        pulse = PulseAudio(Path(runtime))
        await asyncio.to_thread(pulse.start)
        saved = {name: os.environ.get(name) for name in pulse.env}
        os.environ.update(pulse.env)
        try:
            yield pulse
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            await asyncio.to_thread(pulse.stop)


async def run(quick: bool = False, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda text: None)
    clicks = 20 if quick else 60
    results: dict[str, Any] = {}
    say("echo cancellation on a synthetic room")
    results["echo_cancellation"] = await asyncio.to_thread(echo_cancellation)
    for name, low_latency in (("aiortc_default", False), ("voicepilot", True)):
        say(f"WebRTC one way, receive buffer: {name}")
        results[f"rtc_{name}"] = await rtc_one_way(low_latency, clicks)
    async with private_pulse() as pulse:
        say("capture -> wire")
        results["capture_to_wire"] = await capture_to_wire(pulse, clicks)
        say("wire -> playback")
        results["wire_to_playback"] = await wire_to_playback(pulse, clicks)
        with tempfile.TemporaryDirectory(prefix="vp-bench-") as workdir:
            seconds = 20.0 if quick else 60.0
            say(f"sidecar streaming full duplex with devices, {seconds:.0f} s")
            results["sidecar_streaming"] = await sidecar_streaming(pulse, Path(workdir), seconds)
    return results


def table(results: dict[str, Any]) -> str:
    lines = ["| measurement | n | p50 ms | p95 ms | notes |", "|---|---|---|---|---|"]
    for config in ("aiortc_default", "voicepilot"):
        rtc = results[f"rtc_{config}"]
        for direction in ("a_to_b", "b_to_a", "round_trip"):
            r = rtc[direction]
            label = direction.replace("_", " ").replace("a to b", "A->B").replace("b to a", "B->A (echo)")
            lines.append(f"| WebRTC {label}, {config} receive buffer | {r['n']} | {r['p50']} | {r['p95']} | |")
    cw, wp = results["capture_to_wire"], results["wire_to_playback"]
    lines.append(
        f"| capture -> wire (device) | {cw['n']} | {cw['p50']} | {cw['p95']} | "
        f"over parec at 10 ms on the same source; PortAudio input latency {cw['device_input_latency_ms']} ms |"
    )
    lines.append(
        f"| wire -> playback (device) | {wp['n']} | {wp['p50']} | {wp['p95']} | "
        f"pacat at 10 ms: p50 {wp['reference_pacat_p50']}; PortAudio output latency "
        f"{wp['device_output_latency_ms']} ms; {wp['underruns']} underruns |"
    )
    s = results["sidecar_streaming"]
    lines.append(
        f"| sidecar CPU, full duplex with devices | | | | {s['cpu_pct_of_one_core']} % of one core over "
        f"{s['seconds']} s; RSS {s['rss_start_mb']} -> {s['rss_end_mb']} MB |"
    )
    for name, e in results.get("echo_cancellation", {}).items():
        lines.append(
            f"| echo canceller, {name.replace('_', ' + ')} | | | | "
            f"{'echo silenced' if e['erle_db'] >= 100 else 'ERLE ' + str(e['erle_db']) + ' dB'}; "
            f"{e['cpu_pct_of_one_core']} % of one core while active; the user's voice "
            f"{e['user_voice_band_db']:+} dB (300 Hz-8 kHz), {e['user_all_bands_db']:+} dB (all) |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench-audio", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer clicks, a shorter streaming run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick, lambda text: print(f"[bench-audio] {text}", file=sys.stderr)))
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
