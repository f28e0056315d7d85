"""Push-to-talk, mute, barge-in, the echo gate and device recovery, with fake devices and session:
the live audio (audio/voice.py) with the turn taking that drives it (conversation/turns.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.unit.audio_fakes import FakeSounddevice, PortAudioError, device, tone
from voicepilot.audio import voice as voice_mod
from voicepilot.audio.frames import FRAME_SAMPLES, Pcm
from voicepilot.audio.health import CONFIRM_S
from voicepilot.audio.tracks import FrameSource
from voicepilot.audio.voice import (
    AudioOptions,
    DeviceStateReport,
    LevelReport,
    VoiceAudio,
    open_microphone,
    open_speaker,
)
from voicepilot.conversation.turns import PushToTalk, ServiceAudio, TurnOptions
from voicepilot.errors import ErrorKind
from voicepilot.realtime import events as ev


@dataclass
class FakeSession:
    calls: list[str] = field(default_factory=list)
    responding: bool = False

    def clear_input(self) -> None:
        self.calls.append("clear")

    def commit_and_respond(self) -> None:
        self.calls.append("commit")

    def interrupt(self) -> bool:
        if self.responding:
            self.calls.append("interrupt")
        return self.responding


@dataclass
class Reporter:
    levels: list[LevelReport] = field(default_factory=list)
    states: list[DeviceStateReport] = field(default_factory=list)

    def on_level(self, report: LevelReport) -> None:
        self.levels.append(report)

    def on_device_state(self, report: DeviceStateReport) -> None:
        self.states.append(report)

    def changes(self) -> list[tuple[str, str, str, str | None, ErrorKind | None]]:
        """Each report as (kind, previous, state, device, error kind)."""
        return [(r.kind, r.previous, r.state, r.device, r.error_kind) for r in self.states]


@dataclass
class Harness:
    audio: VoiceAudio
    turns: PushToTalk
    events: ServiceAudio
    session: FakeSession
    reporter: Reporter
    sources: list[FrameSource | None]

    async def close(self) -> None:
        await self.turns.close()
        await self.audio.close()

    def speak(self, frames: int, value: int = 3000) -> list[Pcm | None]:
        """The user says something for ``frames`` x 20 ms; returns what the track would send."""
        mic = self.audio.mic
        assert mic is not None
        sent = []
        for _ in range(frames):
            mic.feed(np.full(FRAME_SAMPLES, value, dtype=np.int16))
            sent.append(mic.next_frame())
        return sent


async def make(fake: FakeSounddevice, **options: object) -> Harness:
    session, reporter, sources = FakeSession(), Reporter(), []
    turn_options = {k: options.pop(k) for k in ("min_turn_ms", "release_tail_ms") if k in options}
    audio = VoiceAudio(
        sources.append,
        reporter,
        AudioOptions(**options),  # type: ignore[arg-type]
        await open_microphone(None),
        await open_speaker(None),
    )
    turns = PushToTalk(session, audio, TurnOptions(**turn_options))  # type: ignore[arg-type]
    return Harness(audio, turns, ServiceAudio(audio), session, reporter, sources)


async def test_push_to_talk_opens_the_mic_only_while_pressed_and_commits_after_the_tail(
    fake_sd: FakeSounddevice,
) -> None:
    h = await make(fake_sd, push_to_talk=True, release_tail_ms=50)
    assert h.sources == []  # the session already sends this microphone
    assert h.speak(3) == [None, None, None]  # not pressed: silence
    await h.turns.press()
    assert h.session.calls == ["clear"]
    assert all(frame is not None for frame in h.speak(10))
    assert h.turns.release() is True
    assert h.audio.mic is not None
    assert h.audio.mic.latency_s == 0.01  # half a frame still in the device
    # What was captured before the release (here: in the device) is still sent, then nothing more.
    assert [frame is not None for frame in h.speak(2)] == [True, False]
    assert h.session.calls == ["clear"]  # the commit waits for the tail...
    await h.turns._release  # type: ignore[misc]
    assert h.session.calls == ["clear", "commit"]  # ...then commits and asks for a response
    await h.close()


async def test_a_release_sends_what_was_captured_before_it_then_commits(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, push_to_talk=True, release_tail_ms=0)
    mic = h.audio.mic
    assert mic is not None
    await h.turns.press()
    for value in range(1, 6):  # 100 ms captured while pressed, not yet sent (the loop was busy)
        mic.feed(np.full(FRAME_SAMPLES, value, dtype=np.int16))
    assert h.turns.release() is True
    assert not h.audio._release_drained.is_set()
    sent = [mic.next_frame() for _ in range(5)]
    for value in (6, 7):  # the device's latency: 6 was said before the release, 7 after
        mic.feed(np.full(FRAME_SAMPLES, value, dtype=np.int16))
        sent.append(mic.next_frame())
    assert [None if f is None else int(f[0]) for f in sent] == [1, 2, 3, 4, 5, 6, None]
    assert h.audio._release_drained.is_set()
    await h.turns._release  # type: ignore[misc]
    assert h.session.calls == ["clear", "commit"]
    await h.close()


async def test_a_press_shorter_than_100ms_is_dropped_without_a_commit(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, push_to_talk=True)
    await h.turns.press()
    h.speak(3)  # 60 ms
    assert h.turns.release() is False
    assert h.session.calls == ["clear", "clear"]
    assert h.turns.short_presses == 1
    assert h.turns.release() is False  # a second release is ignored
    await h.close()


async def test_pressing_again_during_the_tail_commits_the_first_turn_at_once(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, push_to_talk=True, release_tail_ms=10_000)
    await h.turns.press()
    h.speak(10)
    h.turns.release()
    await h.turns.press()
    assert h.session.calls == ["clear", "commit", "clear"]
    await h.close()


async def test_mute_is_separate_from_push_to_talk(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, push_to_talk=True)
    h.audio.set_muted(True)
    await h.turns.press()
    assert h.speak(2) == [None, None]
    h.audio.set_muted(False)
    assert all(frame is not None for frame in h.speak(2))
    assert h.audio.pressed
    await h.close()


async def test_pressing_while_the_assistant_speaks_barges_in_and_stops_playback_at_once(
    fake_sd: FakeSounddevice,
) -> None:
    h = await make(fake_sd, push_to_talk=True)
    speaker = h.audio.speaker
    assert speaker is not None
    output = fake_sd.last("output")
    h.events.on_event(ev.OutputAudioBufferStarted(response_id="resp_1"))
    for _ in range(10):
        speaker.write(tone(300, FRAME_SAMPLES, 48_000))
    assert output.render(960).any()
    h.session.responding = True
    await h.turns.press()
    assert h.session.calls == ["interrupt", "clear"]
    assert not output.render(960).any()  # the next callback is already silent
    assert h.audio.barge_ins == 1
    await h.close()


async def test_echo_gate_closes_the_mic_while_the_assistant_speaks(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, echo_tail_ms=0)
    assert h.speak(1)[0] is not None
    h.events.on_event(ev.OutputAudioBufferStarted(response_id="resp_1"))
    assert h.speak(2) == [None, None]
    h.events.on_event(ev.OutputAudioBufferStopped(response_id="resp_1"))
    assert h.speak(1)[0] is not None
    # Audio still playing locally keeps the gate closed, whatever the service says.
    assert h.audio.speaker is not None
    h.audio.speaker.write(tone(300, FRAME_SAMPLES * 5, 48_000))
    assert h.speak(1) == [None]
    await h.close()


async def test_with_barge_in_the_mic_stays_open_and_speech_stops_playback(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, barge_in=True)
    speaker = h.audio.speaker
    assert speaker is not None
    h.events.on_event(ev.OutputAudioBufferStarted(response_id="resp_1"))
    speaker.write(tone(300, FRAME_SAMPLES * 10, 48_000))
    assert h.speak(1)[0] is not None
    h.events.on_event(ev.SpeechStarted(audio_start_ms=100, item_id="item_1"))
    assert speaker.buffered_ms == 0
    assert h.audio.barge_ins == 1
    await h.close()


async def test_echo_cancellation_is_used_with_barge_in_a_microphone_and_a_speaker_only(
    fake_sd: FakeSounddevice,
) -> None:
    h = await make(fake_sd, barge_in=True)
    mic, speaker, echo = h.audio.mic, h.audio.speaker, h.audio.echo
    assert mic is not None
    assert speaker is not None
    assert echo is not None
    assert (mic.process, speaker.on_played) == (echo.process, echo.played)
    assert h.audio.stats()["echoCancellation"] == 1
    assert h.audio.stats()["echoFramesProcessed"] == 0
    # A replacement microphone is hooked up too.
    fake_sd.last("input").die()
    await h.audio._check_devices(0.0)
    assert h.audio.mic is not mic
    assert h.audio.mic is not None
    assert h.audio.mic.process == echo.process
    await h.close()
    for options in ({}, {"barge_in": True, "echo_cancellation": False}):
        h = await make(fake_sd, **options)
        assert h.audio.mic is not None
        assert h.audio.mic.process is None
        assert h.audio.stats()["echoCancellation"] == 0
        await h.close()


async def test_without_pyaec_barge_in_works_and_says_echo_cancellation_is_off(
    fake_sd: FakeSounddevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> None:
        raise voice_mod.EchoUnavailable("pyaec cannot be loaded: no module named 'pyaec'")

    monkeypatch.setattr(voice_mod, "EchoCanceller", unavailable)
    h = await make(fake_sd, barge_in=True)
    assert h.audio.echo is None
    assert h.audio.echo_unavailable is not None
    assert h.audio.stats()["echoCancellation"] == 0
    h.events.on_event(ev.OutputAudioBufferStarted(response_id="resp_1"))
    assert h.speak(1)[0] is not None  # barge-in: the microphone stays open
    await h.close()


async def test_a_new_reply_is_played_even_right_after_a_barge_in(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd, push_to_talk=True)
    speaker = h.audio.speaker
    assert speaker is not None
    h.session.responding = True
    await h.turns.press()  # barge-in: the interrupted reply's tail is held back...
    speaker.write(tone(300, FRAME_SAMPLES, 48_000))
    assert speaker.buffered_ms == 0
    h.events.on_event(ev.ResponseCreated(response=ev.ResponseInfo(id="resp_2")))  # ...a new reply is not
    speaker.write(tone(300, FRAME_SAMPLES, 48_000))
    assert speaker.buffered_ms == 20
    await h.close()


async def test_the_service_clearing_its_output_buffer_flushes_local_playback(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd)
    assert h.audio.speaker is not None
    h.audio.speaker.write(tone(300, FRAME_SAMPLES * 10, 48_000))
    h.events.on_event(ev.OutputAudioBufferCleared(response_id="resp_1"))
    assert h.audio.speaker.buffered_ms == 0
    await h.close()


async def test_a_failed_microphone_is_replaced_by_the_default_then_paused_then_resumed(
    fake_sd: FakeSounddevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_sd.devices = [device("Built-in", 1, 2), device("USB Mic", 1, 0)]
    reporter, sources = Reporter(), []
    audio = VoiceAudio(sources.append, reporter, AudioOptions(), await open_microphone("USB Mic"), None, "USB Mic")
    fake_sd.last("input").die()
    await audio._check_devices(0.0)
    assert audio.mic is not None
    assert audio.mic.device.name == "Built-in"
    assert sources[-1] is audio.mic
    assert reporter.changes() == [("input", "active", "fallback", "Built-in", ErrorKind.DEVICE)]
    assert reporter.states[-1].message == (
        "The microphone 'USB Mic' failed: the device stopped the stream. Using the microphone 'Built-in' now."
    )
    # The replacement fails too, soon after: pause (silence is sent) rather than flap.
    fake_sd.refuse = {"Built-in": PortAudioError("Device unavailable", -9985), "USB Mic": PortAudioError("x", -9985)}
    fake_sd.last("input").die()
    await audio._check_devices(0.0)
    assert audio.mic is None
    assert sources[-1] is None
    assert reporter.changes()[-1] == ("input", "fallback", "paused", None, ErrorKind.DEVICE)
    assert reporter.states[-1].message.startswith("The microphone 'Built-in' failed: the device stopped the stream.")
    assert reporter.states[-1].message.endswith(
        "No other microphone works: the microphone is paused; VoicePilot keeps trying."
    )
    assert audio.device_state("input") == "paused"
    # Retried later: the preferred device first.
    fake_sd.refuse = {}
    monkeypatch.setattr(voice_mod.time, "monotonic", lambda: 1e9)
    await audio._check_devices(1e9)
    assert audio.mic is not None
    assert audio.mic.device.name == "USB Mic"
    assert reporter.changes()[-1] == ("input", "paused", "active", "USB Mic", None)
    assert reporter.states[-1].message == "Using the microphone 'USB Mic' now."
    assert len(reporter.states) == 3
    await audio.close()


async def test_a_chosen_microphone_that_goes_away_falls_back_to_the_default_and_is_followed_back(
    fake_sd: FakeSounddevice,
) -> None:
    usb = device("USB Mic", 1, 0)
    fake_sd.devices = [device("Built-in", 1, 2), usb]
    reporter, sources = Reporter(), []
    audio = VoiceAudio(sources.append, reporter, AudioOptions(), await open_microphone("USB Mic"), None, "USB Mic")
    fake_sd.devices.remove(usb)  # unplugged: its stream ends, and it is no longer listed
    fake_sd.last("input").die()
    await audio._check_devices(0.0)
    assert audio.mic is not None
    assert audio.mic.device.name == "Built-in"
    assert reporter.changes() == [("input", "active", "fallback", "Built-in", ErrorKind.DEVICE)]
    await audio._check_devices(10.0)  # still gone: no change
    assert len(reporter.states) == 1
    fake_sd.devices.append(usb)  # plugged in again
    await audio._check_devices(20.0)
    assert audio.mic.device.name == "USB Mic"
    assert sources[-1] is audio.mic
    assert reporter.changes()[-1] == ("input", "fallback", "active", "USB Mic", None)
    assert reporter.states[-1].message == "The microphone 'USB Mic' is back: using it again."
    await audio.close()


async def test_without_any_working_speaker_playback_pauses_then_resumes_as_active(
    fake_sd: FakeSounddevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = await make(fake_sd)  # the default devices, none chosen
    fake_sd.refuse = {"Speakers": PortAudioError("Device unavailable", -9985)}
    fake_sd.last("output").die()
    await h.audio._check_devices(0.0)
    assert h.audio.speaker is None
    assert h.reporter.changes() == [("output", "active", "paused", None, ErrorKind.DEVICE)]
    assert h.reporter.states[-1].message == (
        "The speaker 'Speakers' failed: the device stopped the stream."
        " No other speaker works: playback is paused; VoicePilot keeps trying."
    )
    await h.audio._check_devices(0.0)  # the retry is not due yet: still paused, nothing new said
    assert len(h.reporter.states) == 1
    fake_sd.refuse = {}
    monkeypatch.setattr(voice_mod.time, "monotonic", lambda: 1e9)
    await h.audio._check_devices(1e9)
    assert h.audio.speaker is not None
    assert h.reporter.changes()[-1] == ("output", "paused", "active", "Speakers", None)
    assert h.reporter.states[-1].message == "Using the speaker 'Speakers' now."
    assert h.audio.device_state("input") == "active"  # the microphone was never affected
    await h.close()


async def test_choosing_a_device_ends_a_fallback(fake_sd: FakeSounddevice) -> None:
    fake_sd.devices = [device("Built-in", 1, 2), device("USB Mic", 1, 0), device("Headset", 1, 0)]
    reporter = Reporter()
    audio = VoiceAudio(lambda source: None, reporter, AudioOptions(), await open_microphone("USB Mic"), None, "USB Mic")
    fake_sd.last("input").die()
    await audio._check_devices(0.0)
    assert audio.device_state("input") == "fallback"
    await audio.select("input", "Headset")
    assert reporter.changes()[-1] == ("input", "fallback", "active", "Headset", None)
    assert reporter.states[-1].message == "Using the microphone 'Headset' now, as chosen."
    await audio.select("input", None)  # already active: a choice is no state change
    assert len(reporter.states) == 2
    await audio.close()


async def test_levels_are_reported_ten_times_a_second(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd)
    h.audio.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(50):  # a second of speech at rising levels: every report differs from the last
        assert h.audio.mic is not None
        h.audio.mic.feed(np.full(FRAME_SAMPLES, 100 * (i + 1), dtype=np.int16))
        await asyncio.sleep(0.02)
    elapsed = loop.time() - started
    await h.close()
    # One report per 100 ms tick (the first tick and the last may fall outside the second).
    assert elapsed * 10 - 2 <= len(h.reporter.levels) <= elapsed * 10 + 1
    assert h.reporter.levels[-1].input_dbfs > -60
    assert h.reporter.levels[-1].input_device == "Built-in Microphone"


async def test_a_speaker_that_stalls_and_recovers_is_no_failure(fake_sd: FakeSounddevice) -> None:
    h = await make(fake_sd)
    speaker = h.audio.speaker
    assert speaker is not None
    fake_sd.last("output").render(480)
    last = speaker.last_callback_at
    assert last is not None
    await h.audio._check_devices(last + 2.0)  # an idle null sink after an underrun: ~2 s without callbacks
    fake_sd.last("output").render(480)
    await h.audio._check_devices(time.monotonic())
    assert h.audio.speaker is speaker
    assert h.reporter.states == []
    assert h.audio.stats()["speakerStallsSuspected"] == 1
    # A stall that lasts is a failure.
    last = speaker.last_callback_at
    assert last is not None
    await h.audio._check_devices(last + CONFIRM_S + 0.1)
    assert h.audio.speaker is not speaker
    await h.audio.close()


async def test_reopening_the_device_in_use_after_a_failure_is_no_switch_and_says_nothing(
    fake_sd: FakeSounddevice,
) -> None:
    h = await make(fake_sd)  # the default devices, none chosen: the default is all there is to go to
    failed = h.audio.mic
    fake_sd.last("input").die()
    await h.audio._check_devices(0.0)
    assert h.audio.mic is not None
    assert h.audio.mic is not failed
    assert failed is not None
    assert h.audio.mic.device.name == failed.device.name
    assert h.sources[-1] is h.audio.mic  # the session captures from the reopened stream
    assert h.reporter.states == []
    assert h.audio.device_state("input") == "active"
    await h.audio.close()
