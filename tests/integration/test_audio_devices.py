"""The microphone and speaker on real (virtual) devices: PortAudio -> ALSA pulse PCM -> PulseAudio.

The daemon's virtual microphone ``vmic`` hears what is played into ``micfeed``; what is played to
``speaker`` is recorded from ``speaker.monitor``. No arrays are handed to functions here: audio goes
through the same device stack as on a desktop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.pulse import MIC, MIC_FEED, MonitorRecorder, PulseAudio
from tests.integration.spoken import loud_ms
from voicepilot.audio.file_input import load_audio_file
from voicepilot.audio.frames import FRAME_MS, SAMPLE_RATE, Pcm
from voicepilot.audio.health import CONFIRM_S
from voicepilot.audio.voice import (
    AudioOptions,
    DeviceStateReport,
    LevelReport,
    VoiceAudio,
    available_devices,
    open_microphone,
    open_speaker,
)
from voicepilot.errors import ErrorKind

pytestmark = pytest.mark.integration


async def speech_ms(wav: Path) -> int:
    return loud_ms(await load_audio_file(wav))


class Frames:
    """Captured frames, with a way to wait for enough of them (no polling)."""

    def __init__(self) -> None:
        self.frames: list[Pcm] = []
        self._changed = asyncio.Event()

    def add(self, frame: Pcm) -> None:
        self.frames.append(frame)
        self._changed.set()

    async def wait_until(self, predicate: Callable[[list[Pcm]], bool], timeout: float) -> None:
        async def wait() -> None:
            while not predicate(self.frames):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def wait_for_loud_ms(self, ms: int, timeout: float) -> None:
        await self.wait_until(lambda frames: loud_ms(frames) >= ms, timeout)


async def test_the_sound_servers_devices_are_listed(pulse: PulseAudio) -> None:
    inputs = {d.name: d for d in await available_devices("input")}
    outputs = {d.name: d for d in await available_devices("output")}
    assert inputs["default"].is_default
    assert inputs[MIC].host_api == "PulseAudio"
    assert "speaker.monitor" not in inputs  # a monitor is not a microphone
    assert {"default", "speaker", MIC_FEED} <= set(outputs)


async def test_the_default_microphone_captures_speech_played_into_it(pulse: PulseAudio, samples: Path) -> None:
    wav = samples / "go_to_line_42.wav"
    mic = await open_microphone(None)
    captured = Frames()
    mic.on_frame = captured.add
    started = time.monotonic()
    await pulse.say(wav)
    expected = await speech_ms(wav)
    await captured.wait_for_loud_ms(expected - 100, timeout=5)
    elapsed = time.monotonic() - started
    await mic.close()
    assert mic.device.name == "default"
    assert abs(loud_ms(captured.frames) - expected) <= 120
    # The device delivers in real time, and nothing was lost between its thread and the loop.
    assert mic.frames_captured == pytest.approx(elapsed * 1000 / FRAME_MS, rel=0.1)
    assert mic.blocks_dropped == 0
    assert max(int(np.abs(f).max()) for f in captured.frames) > 8000


async def test_a_named_sound_server_source_is_opened_by_its_name(pulse: PulseAudio, samples: Path) -> None:
    pulse.pactl("set-default-source", "speaker.monitor")  # so "default" would hear nothing
    mic = await open_microphone(MIC)
    captured = Frames()
    mic.on_frame = captured.add
    await pulse.say(samples / "go_to_line_12.wav")
    await captured.wait_for_loud_ms(500, timeout=5)
    await mic.close()
    assert mic.device.name == MIC


async def test_the_speaker_plays_what_it_is_given_without_underruns(pulse: PulseAudio) -> None:
    speaker = await open_speaker(None)
    tone = (np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE) / SAMPLE_RATE) * 12000).astype(np.int16)
    chunk = SAMPLE_RATE // 10
    async with MonitorRecorder(pulse) as recorder:
        # One second of tone in 100 ms pieces, kept 200 ms ahead of the device: a loaded test
        # machine's scheduling hiccups must not show up as underruns of the speaker.
        speaker.write(tone[: 2 * chunk])
        start = time.monotonic()
        for i in range(2, 10):
            await asyncio.sleep(max(0.0, start + (i - 2) * 0.1 - time.monotonic()))
            speaker.write(tone[i * chunk : (i + 1) * chunk])
        underruns = speaker.underruns  # before the stream runs dry at the end
        await recorder.wait_for(lambda: recorder.loud_seconds() > 0.9 and recorder.quiet_for(0.2), timeout=5)
    await speaker.close()
    assert recorder.loud_seconds() == pytest.approx(1.0, abs=0.15)
    recorded = np.concatenate([chunk for _, chunk in recorder.chunks])
    spectrum = np.abs(np.fft.rfft(recorded.astype(np.float64)))
    assert np.fft.rfftfreq(recorded.size, 1 / SAMPLE_RATE)[int(np.argmax(spectrum))] == pytest.approx(440, abs=3)
    assert underruns == 0


@dataclass
class Recorded:
    """A fake reporter: what the audio layer said."""

    states: list[DeviceStateReport] = field(default_factory=list)
    levels: list[LevelReport] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_level(self, report: LevelReport) -> None:
        self.levels.append(report)

    def on_device_state(self, report: DeviceStateReport) -> None:
        self.states.append(report)
        self.changed.set()

    async def wait_message(self, fragment: str, timeout: float) -> DeviceStateReport:
        """The latest device state report whose message has ``fragment``, once there is one."""

        async def wait() -> DeviceStateReport:
            while True:
                found = [r for r in self.states if fragment in r.message]
                if found:
                    return found[-1]
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)


async def test_a_source_that_disappears_is_replaced_by_the_default_and_followed_back(
    pulse: PulseAudio, samples: Path
) -> None:
    pulse.pactl("set-default-source", f"{MIC_FEED}.monitor")
    recorded = Recorded()
    sources: list[object] = []
    audio = VoiceAudio(sources.append, recorded, AudioOptions(), await open_microphone(MIC), None, preferred_input=MIC)
    audio.start()
    try:
        pulse.pactl("unload-module", pulse.module_id("module-virtual-source", f"source_name={MIC}"))
        gone = await recorded.wait_message("disappeared", timeout=5)
        assert gone.message == f"The microphone '{MIC}' disappeared. Using the microphone 'default' now."
        assert (gone.kind, gone.previous, gone.state, gone.device) == ("input", "active", "fallback", "default")
        assert gone.error_kind is ErrorKind.DEVICE
        assert audio.mic is not None
        assert audio.mic.device.name == "default"
        assert sources[-1] is audio.mic
        # The conversation goes on with the default device.
        captured = Frames()
        audio.mic.on_frame = captured.add
        await pulse.say(samples / "go_to_line_12.wav")
        await captured.wait_for_loud_ms(500, timeout=5)
        # The device comes back: it is used again.
        pulse.pactl("load-module", "module-virtual-source", f"source_name={MIC}", f"master={MIC_FEED}.monitor")
        back = await recorded.wait_message("is back", timeout=5)
        assert audio.mic.device.name == MIC
        assert (back.previous, back.state, back.device, back.error_kind) == ("fallback", "active", MIC, None)
    finally:
        await audio.close()
    assert [(r.previous, r.state) for r in recorded.states] == [("active", "fallback"), ("fallback", "active")]


async def test_a_source_that_stops_delivering_audio_is_a_device_failure(pulse: PulseAudio) -> None:
    pulse.pactl("set-default-source", f"{MIC_FEED}.monitor")
    recorded = Recorded()
    mic = await open_microphone(MIC)
    captured = Frames()
    mic.on_frame = captured.add
    audio = VoiceAudio(None, recorded, AudioOptions(), mic, None, MIC)
    audio.start()
    try:
        await captured.wait_until(lambda frames: len(frames) >= 5, timeout=5)  # it runs
        pulse.pactl("suspend-source", MIC, "1")
        failed = await recorded.wait_message("failed", timeout=5 + CONFIRM_S)  # a stall is confirmed first
        assert failed.message.startswith(f"The microphone '{MIC}' failed: it stopped delivering audio")
        assert failed.message.endswith("Using the microphone 'default' now.")
        assert (failed.previous, failed.state, failed.device) == ("active", "fallback", "default")
        assert failed.error_kind is ErrorKind.DEVICE
        assert audio.mic is not None
        assert audio.mic.device.name == "default"
    finally:
        await audio.close()
