"""The microphone's path from PortAudio's thread to 48 kHz frames, without a sound card."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.unit.audio_fakes import FakeSounddevice, device, dominant_hz, tone
from voicepilot.audio import capture
from voicepilot.audio.capture import Microphone
from voicepilot.audio.devices import find_device
from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, SILENCE
from voicepilot.audio.health import CONFIRM_S, FIRST_CONFIRM_S, HealthJudge
from voicepilot.audio.stream import FIRST_CALLBACK_S, STALL_S
from voicepilot.audio.tracks import FileFrameSource, PacedAudioTrack
from voicepilot.realtime.router import QUIET_FRAMES, MicRouter


async def open_mic(fake: FakeSounddevice, rate: float = 48_000.0) -> Microphone:
    fake.devices[0] = device("Built-in Microphone", 1, 0, rate)
    mic = Microphone(find_device("input", None))
    await mic.open()
    return mic


async def settle() -> None:
    """Let the loop run the wake-up PortAudio's thread already queued (call_soon_threadsafe)."""
    await asyncio.sleep(0)


async def test_opens_the_default_device_at_its_native_rate_mono_in_20ms_blocks(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd, 44_100.0)
    stream = fake_sd.last("input")
    assert (stream.samplerate, stream.channels, stream.dtype, stream.blocksize) == (44_100, 1, "int16", 441)
    assert stream.started
    assert mic.rate == 44_100
    await mic.close()
    assert stream.closed
    assert mic.problem() is None  # closing is not a failure


async def test_blocks_from_portaudios_thread_become_48k_frames(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd, 44_100.0)
    frames: list[np.ndarray] = []
    mic.on_frame = frames.append
    stream = fake_sd.last("input")
    for i in range(50):  # one second at 44.1 kHz, 882-sample blocks
        stream.capture(tone(1000, 882, 44_100, start=i * 882))
        await settle()
        assert not mic._blocks
    assert 48 <= len(frames) <= 50  # the resampler holds back a few samples
    assert {f.size for f in frames} == {FRAME_SAMPLES}
    assert dominant_hz(np.concatenate(frames), SAMPLE_RATE) == pytest.approx(1000, abs=2)
    assert mic.blocks_dropped == 0
    await mic.close()


async def test_handoff_queue_is_bounded_drops_oldest_and_counts(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    stream = fake_sd.last("input")
    # The loop does not run between these callbacks (same thread, no await): blocks pile up.
    for i in range(capture.BLOCK_QUEUE + 5):
        stream.capture(np.full(960, i), from_thread=False)
    assert mic.blocks_dropped == 5
    await settle()
    assert not mic._blocks
    assert mic.frames_captured == capture.BLOCK_QUEUE
    assert mic.frames_dropped == 0
    # What is left is the newest audio.
    assert [int(mic.next_frame()[0]) for _ in range(2)] == [5, 6]
    await mic.close()


async def test_a_loop_late_by_500ms_loses_nothing_and_the_catch_up_is_counted(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    stream = fake_sd.last("input")
    # 500 ms of 10 ms blocks while the loop is busy elsewhere: speech, one value per block.
    for i in range(50):
        stream.capture(np.full(480, 1000 + i), from_thread=False)
    await settle()
    sent = []
    for i in range(50, 50 + capture.TRIM_AFTER * 4, 2):
        # The device goes on delivering a frame per pull: the backlog stays as deep for 2 s.
        stream.capture(np.full(480, 1000 + i), from_thread=False)
        stream.capture(np.full(480, 1001 + i), from_thread=False)
        await settle()
        frame = mic.next_frame()
        assert frame is not None
        sent.append(frame)
    while mic.queued:
        frame = mic.next_frame()
        assert frame is not None
        sent.append(frame)
    assert mic.blocks_dropped == mic.frames_dropped == mic.frames_trimmed == 0
    values = [int(v) for f in sent for v in (f[0], f[-1])]
    assert values == [1000 + i for i in range(len(values))]  # every block, in order
    assert mic.catch_ups == 1
    assert mic.frames_caught_up == len(sent) - 1  # all but the last, which left with none behind it
    assert mic.stats()["micCatchUps"] == 1
    await mic.close()


async def test_audio_said_before_connecting_is_kept_up_to_3s(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    for i in range(int(capture.PRE_CONNECT_S * 1000) // 20 + 10):  # nobody pulls yet: still connecting
        mic.feed(np.full(960, i, dtype=np.int16))
    assert mic.queued == 150
    assert mic.frames_dropped == 10
    assert int(mic.next_frame()[0]) == 10  # the newest 3 s
    await mic.close()


async def test_a_fast_device_cannot_build_up_latency_but_loses_only_quiet_frames(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    for i in range(capture.TARGET_FRAMES + 3):
        mic.feed(np.full(960, 3000 + i, dtype=np.int16))  # speech at the head of the queue
    for i in range(capture.TRIM_AFTER):
        mic.feed(np.full(960, 3100 + i, dtype=np.int16))  # the device delivers one frame per pull...
        mic.next_frame()  # ...but it started with a backlog: the queue stays deep
    assert mic.frames_trimmed == 0  # speech is not cut
    for _ in range(capture.TRIM_AFTER):
        mic.feed(np.zeros(960, dtype=np.int16))
        mic.next_frame()
    assert mic.frames_trimmed == 1  # the first quiet frame at the head goes
    assert mic.queued == capture.TARGET_FRAMES + 2
    await mic.close()


async def test_a_closed_gate_sends_silence_and_discards_what_was_said(fake_sd: FakeSounddevice) -> None:
    gate = {"open": False}
    mic = await open_mic(fake_sd)
    mic.gate = lambda: gate["open"]
    mic.feed(np.full(960, 7, dtype=np.int16))
    assert mic.next_frame() is None
    assert mic.next_frame() is None  # the frame was consumed, not kept for later
    gate["open"] = True
    mic.feed(np.full(960, 8, dtype=np.int16))
    frame = mic.next_frame()
    assert frame is not None
    assert int(frame[0]) == 8
    assert mic.frames_sent == 1
    await mic.close()


async def test_a_stream_the_device_ended_is_a_problem_and_a_stall_only_once_confirmed(
    fake_sd: FakeSounddevice,
) -> None:
    mic = await open_mic(fake_sd)
    judge = HealthJudge()
    opened = mic._opened_at
    assert opened is not None
    assert judge.failure(mic, opened + FIRST_CALLBACK_S + 0.1) is None  # late first audio: a suspicion
    assert judge.suspicions == 1
    assert "no audio arrived" in (judge.failure(mic, opened + FIRST_CONFIRM_S + 0.1) or "")
    fake_sd.last("input").capture(np.zeros(960))
    last = mic.last_callback_at
    assert last is not None
    assert judge.failure(mic, last + STALL_S + 0.1) is None  # suspected...
    assert judge.suspicions == 2
    assert judge.failure(mic, last + CONFIRM_S - 0.1) is None  # ...not yet confirmed
    assert judge.suspicions == 2  # one stall, one suspicion
    assert "stopped delivering audio for more than 5 s" in (judge.failure(mic, last + CONFIRM_S + 0.1) or "")
    assert judge.failure(mic, last + 0.01) is None  # it delivered again in time: nothing to tell
    fake_sd.last("input").die()
    assert mic.problem() == "the device stopped the stream"
    assert judge.failure(mic, last) == "the device stopped the stream"  # hard evidence: at once
    await mic.close()


async def test_a_stream_portaudio_reports_inactive_is_a_problem(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    fake_sd.last("input").active = False  # type: ignore[attr-defined]
    assert mic.problem() == "PortAudio reports the stream inactive"
    await mic.close()


async def test_a_stream_portaudio_reports_an_error_for_is_a_problem(
    fake_sd: FakeSounddevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    mic = await open_mic(fake_sd)

    def error(self: object) -> bool:
        raise fake_sd.PortAudioError("Unanticipated host error", -9999)

    monkeypatch.setattr(type(fake_sd.last("input")), "active", property(error), raising=False)
    assert mic.problem() == "PortAudio reports an error: ('Unanticipated host error', -9999)"
    await mic.close()


async def test_falls_back_to_48k_when_the_native_rate_is_refused(fake_sd: FakeSounddevice) -> None:
    fake_sd.devices[0] = device("Built-in Microphone", 1, 0, 22_050.0)
    opened: list[int] = []
    real_open = fake_sd._open

    def picky(kind: str, **kwargs: object) -> object:
        opened.append(int(kwargs["samplerate"]))  # type: ignore[call-overload]
        if kwargs["samplerate"] != SAMPLE_RATE:
            raise fake_sd.PortAudioError("Invalid sample rate", -9997)
        return real_open(kind, **kwargs)

    fake_sd._open = picky  # type: ignore[method-assign]
    mic = Microphone(find_device("input", None))
    await mic.open()
    assert opened == [22_050, 48_000]
    assert mic.rate == SAMPLE_RATE
    await mic.close()


async def test_the_loop_is_woken_once_per_frame_not_per_block(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    wakes: list[object] = []
    mic.call_on_loop = lambda fn, *args: wakes.append(fn)  # type: ignore[method-assign]
    stream = fake_sd.last("input")
    woken = 0
    for _ in range(6):  # 10 ms blocks at 48 kHz: 60 ms
        stream.capture(np.zeros(480), from_thread=False)
        if wakes:
            woken += 1
            wakes.clear()
            captured = mic.frames_captured
            mic._take_blocks()
            assert mic.frames_captured == captured + 1  # each wake-up completes a frame
    assert woken == 3
    assert mic.frames_captured == 3
    await mic.close()


async def test_the_track_sends_each_frame_as_soon_as_the_device_delivers_it(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    track = PacedAudioTrack(mic, stall_s=60)  # no timer could release a frame within the test
    stream = fake_sd.last("input")
    sending = asyncio.ensure_future(track.next_pcm())
    await settle()
    assert not sending.done()  # nothing captured yet: the track waits for the device, not a timer
    stream.capture(np.full(480, 5))
    stream.capture(np.full(480, 5))  # the frame is complete: PortAudio's thread wakes the loop once
    samples, pts = await sending
    assert (int(samples[0]), pts) == (5, 0)
    # A backlog (the loop stood still) goes out at once, in order, on the stream's clock.
    for value in (6, 7):
        stream.capture(np.full(960, value), from_thread=False)
    mic._take_blocks()
    assert [(int(s[0]), p) for s, p in [await track.next_pcm(), await track.next_pcm()]] == [(6, 960), (7, 1920)]
    assert (track.frames_device_clocked, track.device_stalls) == (3, 0)
    await mic.close()


async def test_a_stalled_device_gets_silence_on_the_timer_until_it_delivers_again(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    track = PacedAudioTrack(mic, stall_s=0.05)
    samples, _ = await track.next_pcm()  # nothing for 50 ms: stalled, silence keeps the stream going
    assert samples is SILENCE
    samples, _ = await track.next_pcm()  # still nothing: silence again, a frame later
    assert samples is SILENCE
    assert track.device_stalls == 1
    mic.feed(np.full(960, 9, dtype=np.int16))
    samples, pts = await track.next_pcm()
    assert (int(samples[0]), pts) == (9, 2 * FRAME_SAMPLES)
    assert (track.frames_device_clocked, track.device_stalls) == (1, 1)
    await mic.close()


async def test_only_the_active_connection_runs_on_the_device_clock(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    router = MicRouter(mic)
    (active, active_source), (standby, standby_source) = router.new_track(), router.new_track()
    router.activate(active_source)
    assert (active_source.clock(), standby_source.clock()) == (mic, None)
    mic.feed(np.full(960, 3, dtype=np.int16))
    assert int((await active.next_pcm())[0][0]) == 3
    assert (await standby.next_pcm())[0] is SILENCE  # kept warm with silence, on its own timer
    assert (active.frames_device_clocked, standby.frames_device_clocked) == (1, 0)
    router.activate(standby_source)  # a handover: the device now paces the new connection
    assert (active_source.clock(), standby_source.clock()) == (None, mic)
    router.source = None
    assert standby_source.clock() is None
    await mic.close()


async def test_after_a_skipped_wake_up_the_next_ones_are_on_frame_boundaries_again(fake_sd: FakeSounddevice) -> None:
    mic = await open_mic(fake_sd)
    wakes: list[int] = []
    mic.call_on_loop = lambda fn, *args: wakes.append(mic.frames_captured)  # type: ignore[method-assign]
    stream = fake_sd.last("input")
    blocks_at_wake = []
    for block in range(1, 9):  # 10 ms blocks
        stream.capture(np.zeros(480), from_thread=False)
        if wakes:
            wakes.clear()
            blocks_at_wake.append(block)
            if block != 2:  # the loop is late for the first wake-up: the second frame's is skipped
                mic._take_blocks()
        elif block == 4:
            mic._take_blocks()  # the loop gets round to the first wake-up, two blocks late
    # Frames complete after blocks 2, 4, 6, 8: the wake-up after block 4 was skipped (one was
    # pending) and came a block late, at 5; then back on the boundaries, 6 and 8 (not 7).
    assert blocks_at_wake == [2, 5, 6, 8]
    await mic.close()


async def test_at_a_handover_the_new_connection_is_woken_by_every_frame(fake_sd: FakeSounddevice) -> None:
    """The old track may still be waiting for a frame when the new one starts to: each frame wakes
    both (the old one, no longer active, sends silence), so the new one never waits out a stall for a
    frame that only the old one was woken for."""
    mic = await open_mic(fake_sd)
    router = MicRouter(mic)
    (old, old_source), (new, new_source) = router.new_track(), router.new_track()
    old._stall_s = 0.05  # gives up soon; the new track would wait a minute for a frame it missed
    new._stall_s = 60
    router.activate(old_source)
    old_waiting = asyncio.ensure_future(old.next_pcm())
    await settle()
    router.activate(new_source)  # the switch, while the old track waits
    for value in (1, 2, 3):
        receiving = asyncio.ensure_future(new.next_pcm())
        await settle()
        if value == 2:
            assert (await old_waiting)[0] is SILENCE  # woken by the first frame: no longer the active one
        mic.feed(np.full(FRAME_SAMPLES, value, dtype=np.int16))
        samples, _ = await asyncio.wait_for(receiving, timeout=5)
        assert int(samples[0]) == value
    assert new.device_stalls == 0
    await mic.close()


def test_the_input_is_quiet_only_after_a_full_window_of_quiet_frames() -> None:
    soft = np.full(FRAME_SAMPLES, 100, dtype=np.int16)  # -50 dBFS: under QUIET_DBFS (-45)
    loud = np.full(FRAME_SAMPLES, 3000, dtype=np.int16)  # -21 dBFS
    # The file's frames, then None (nothing to send: the track sends silence).
    router = MicRouter(FileFrameSource([loud, *[soft] * (QUIET_FRAMES - 1)]))
    _, routed = router.new_track()
    router.activate(routed)
    for _ in range(QUIET_FRAMES):
        routed.next_frame()
        assert not router.quiet  # too few frames yet, then the loud one is still in the window
    assert routed.next_frame() is None  # counts as quiet: the loud frame has left the window
    assert router.quiet
    routed.next_frame()
    assert router.quiet
