"""Echo cancellation on a synthetic room: a speech sample played, its echo captured, the user on top."""

from __future__ import annotations

import numpy as np
import pytest

from bench.echo_room import (
    START,
    db,
    erle,
    far_and_echo,
    loudest_dbfs,
    pcm,
    simulate,
    speech,
    user_over,
    voice_band_db,
)
from voicepilot.audio import pyaec_hooks
from voicepilot.audio.echo import FILTER_MS, EchoCanceller, PyAecEngine
from voicepilot.audio.echo_suppressor import ResidualEchoSuppressor
from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE


def test_the_speakers_echo_is_attenuated_by_at_least_15_db() -> None:
    far, echo = far_and_echo()
    run = simulate(far, echo, canceller=EchoCanceller(suppress=False))  # the adaptive filter alone
    reduction = erle(echo, run.out)
    print(f"ERLE {reduction:.1f} dB")
    assert reduction >= 15
    # The sample's pauses between commands are shorter than the filter: nearly every frame is processed.
    frames = run.canceller.frames_processed + run.canceller.frames_skipped
    assert (frames, run.canceller.frames_processed) == (far.size // FRAME_SAMPLES, pytest.approx(frames, rel=0.35))


def test_the_user_speaking_over_the_echo_survives() -> None:
    far, echo = far_and_echo()
    user, spoken = user_over(echo)  # well after convergence, while the assistant still speaks
    # The adaptive filter alone: a user only 3 dB over the echo is within its frame-to-frame spread,
    # which the residual echo suppressor cannot tell from the echo (its own test is below).
    run = simulate(far, pcm(echo + user), canceller=EchoCanceller(suppress=False))
    level_in, level_out = voice_band_db(user[spoken]), voice_band_db(run.out[spoken])
    print(
        f"the user (300 Hz-8 kHz): {level_in:.1f} dB in, {level_out:.1f} dB out; "
        f"the echo: {voice_band_db(echo[spoken]):.1f} dB; "
        f"all bands: {db(user[spoken]):.1f} -> {db(run.out[spoken]):.1f}"
    )
    assert abs(level_out - level_in) <= 3
    # What comes out is the user's voice, not what is left of the echo.
    left = voice_band_db(simulate(far, echo, canceller=EchoCanceller(suppress=False)).out[spoken])
    assert left < level_out - 10, left


def test_silence_in_gives_silence_out() -> None:
    far, _ = far_and_echo()
    run = simulate(far, np.zeros(far.size, dtype=np.int16))
    assert int(np.abs(run.out.astype(np.int32)).max()) <= 1
    assert run.canceller.stats()["echoFramesSuppressed"] == 0  # nothing to suppress either


def test_while_the_speaker_is_silent_frames_pass_untouched_and_cost_nothing() -> None:
    far, echo = far_and_echo()
    seconds = 3 * SAMPLE_RATE
    canceller = simulate(far[:seconds], echo[:seconds]).canceller
    processed = canceller.frames_processed
    # The assistant stops: after the filter's length of silence, frames are no longer processed.
    quiet = np.zeros(seconds, dtype=np.int16)
    user = (speech("go_to_line_42.wav")[:seconds] * 0.5).astype(np.int16)
    user = np.concatenate([user, np.zeros(seconds - user.size, dtype=np.int16)])
    run = simulate(quiet, user, canceller=canceller, start_frame=seconds // FRAME_SAMPLES).out
    tail_frames = FILTER_MS // 20 + 2
    assert canceller.frames_processed - processed <= tail_frames
    untouched = tail_frames * FRAME_SAMPLES
    np.testing.assert_array_equal(run[untouched:], user[untouched : run.size])


@pytest.mark.parametrize(("error_ms", "jitter_ms"), [(15, 0), (-30, 0), (0, 2)])
def test_a_reference_stamped_off_by_tens_of_ms_or_jittering_is_still_cancelled(error_ms: int, jitter_ms: int) -> None:
    """Stamped up to AHEAD_MS late, or tens of ms early, the reference still leads the echo within the filter."""
    far, echo = far_and_echo()
    run = simulate(
        far, echo, stamp_error_s=error_ms / 1000, jitter_s=jitter_ms / 1000, canceller=EchoCanceller(suppress=False)
    )
    reduction = erle(echo, run.out)
    print(f"stamps {error_ms:+d} ms, jitter ±{jitter_ms} ms: ERLE {reduction:.1f} dB")
    assert reduction >= 15


def test_a_reference_that_lags_the_echo_cannot_cancel_it_but_never_hurts_the_user() -> None:
    """Stamped 100 ms late the reference comes after its echo: little is cancelled, the user's voice stays.

    The adaptive filter alone: with nothing cancelled, the residual echo suppressor cannot tell this
    user, only 3 dB over the echo, from the echo (its own tests are below)."""
    far, echo = far_and_echo()
    user, spoken = user_over(echo)
    run = simulate(far, pcm(echo + user), stamp_error_s=0.1, canceller=EchoCanceller(suppress=False))
    assert voice_band_db(run.out[spoken]) >= voice_band_db(user[spoken]) - 3
    assert erle(echo, pcm(run.out - user[: run.out.size])) < 15  # the test's premise: this one does not cancel


def test_a_jump_in_the_microphones_stamps_realigns_and_cancelling_goes_on() -> None:
    far, echo = far_and_echo()
    canceller = EchoCanceller(suppress=False)
    half = far.size // 2 // FRAME_SAMPLES * FRAME_SAMPLES
    simulate(far[:half], echo[:half], canceller=canceller)
    # Both clocks' stamps step by 200 ms (a stall of the host, a clock correction): laid anew.
    rest = simulate(far[half:], echo[half:], canceller=canceller, start_frame=half // FRAME_SAMPLES + 10).out
    assert canceller.realigned == 1
    assert erle(echo[half:], rest, from_s=1.0) >= 15


def test_reset_forgets_the_room() -> None:
    far, echo = far_and_echo()
    canceller = simulate(far[: 2 * SAMPLE_RATE], echo[: 2 * SAMPLE_RATE]).canceller
    canceller.reset()
    frame = echo[SAMPLE_RATE : SAMPLE_RATE + FRAME_SAMPLES]
    # Nothing played since the reset: the frame passes untouched.
    np.testing.assert_array_equal(canceller.process(frame.copy(), START + 100), frame)


# ---------------------------------------------------------------------- residual echo suppression


def test_the_residual_echo_stays_under_the_vad_even_before_the_filter_has_converged() -> None:
    far, echo = far_and_echo()
    onset = int(np.argmax(np.abs(far) > 1000))
    first = slice(onset, onset + SAMPLE_RATE // 2)  # the reply's first 0.5 s: the filter has not converged
    bare = simulate(far, echo, canceller=EchoCanceller(suppress=False)).out
    run = simulate(far, echo)
    print(
        f"loudest 10 ms: filter alone {loudest_dbfs(bare[first]):.1f} dBFS in the first 0.5 s, "
        f"{loudest_dbfs(bare):.1f} overall; suppressed {loudest_dbfs(run.out):.1f}; {run.canceller.stats()}"
    )
    assert loudest_dbfs(bare[first]) > -45  # the premise: the filter alone lets the VAD hear the reply
    assert loudest_dbfs(run.out) < -45  # everywhere, the first 0.5 s included
    assert run.canceller.stats()["echoFramesSuppressed"] > 0
    assert run.canceller.stats()["echoFramesDoubleTalk"] == 0


def test_the_user_over_the_echo_passes_the_suppressor_within_a_few_db() -> None:
    """The user 9 dB over the echo (the tests' acoustic loop: 10 dB) passes as the filter leaves them."""
    far, echo = far_and_echo()
    user, spoken = user_over(echo, gain=1.0)
    run = simulate(far, pcm(echo + user))
    bare = simulate(far, pcm(echo + user), canceller=EchoCanceller(suppress=False)).out
    level_in, level_out = voice_band_db(user[spoken]), voice_band_db(run.out[spoken])
    print(f"the user: {level_in:.1f} dB in, {voice_band_db(bare[spoken]):.1f} after the filter, {level_out:.1f} out")
    assert level_out >= level_in - 3
    assert level_out >= voice_band_db(bare[spoken]) - 2
    assert run.canceller.stats()["echoFramesDoubleTalk"] > 0


def test_after_a_rest_the_suppressor_judges_the_next_reply_from_silence_not_the_last_one() -> None:
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    loud = (np.sin(2 * np.pi * 300 * t) * 10000).astype(np.int16)  # what the speaker played (-13 dBFS)
    echo = (loud // 3).astype(np.int16)
    residual = (echo // 10).astype(np.int16)
    user = (np.sin(2 * np.pi * 500 * t) * 3000).astype(np.int16)  # -23 dBFS, with nothing playing
    quiet = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    rested, held = ResidualEchoSuppressor(), ResidualEchoSuppressor()
    for suppressor in (rested, held):
        suppressor.process(echo, residual, loud)  # echo only: faded out...
        assert not suppressor.process(echo, residual, loud).any()  # ...and silenced
    # Without a rest, the last reply's loud frames still count as playing: the user is held back.
    assert not held.process(user, user, quiet).any()
    # The speaker was quiet for longer than the window (the canceller skipped frames): the user passes whole.
    rested.rest()
    np.testing.assert_array_equal(rested.process(user, user, quiet), user)


def test_pyaec_outside_the_tested_minor_falls_back_to_its_public_method_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    far, echo = far_and_echo()
    middle = far.size // 2
    frames = [
        (echo[i : i + FRAME_SAMPLES], far[i : i + FRAME_SAMPLES])
        for i in range(middle, middle + 50 * FRAME_SAMPLES, FRAME_SAMPLES)
    ]
    direct = PyAecEngine()
    assert (direct.direct, direct.hooks) == (True, "active")
    monkeypatch.setattr(pyaec_hooks, "installed_pyaec", lambda: "1.1.0")
    fallback = PyAecEngine()
    assert not fallback.direct
    assert fallback.hooks == f"fallback: pyaec 1.1.0 is not the tested {pyaec_hooks.TESTED_PYAEC}"
    assert EchoCanceller(engine=None).hooks == fallback.hooks  # what the diagnostics carry as pyaecHooks
    outputs = [(direct.cancel(near, played), fallback.cancel(near, played)) for near, played in frames]
    assert all(np.array_equal(a, b) for a, b in outputs)
    assert db(np.concatenate([a for a, _ in outputs])) < db(np.concatenate([near for near, _ in frames]))


def test_pyaec_without_the_expected_library_layout_falls_back() -> None:
    import pyaec

    class Unknown:
        lib = None

    aec = pyaec.Aec(320, 3200, 16000, False)
    assert pyaec_hooks.direct_canceller(pyaec, aec)[1] == "active"
    canceller, status = pyaec_hooks.direct_canceller(Unknown, aec)  # type: ignore[arg-type]
    assert canceller is None
    assert status == "fallback: pyaec's library has no AecCancelEcho of the expected shape"
