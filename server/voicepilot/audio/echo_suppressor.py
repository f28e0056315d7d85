"""Residual echo suppression: what the adaptive filter left of the echo, silenced while the speaker plays.

The echo canceller (:mod:`voicepilot.audio.echo`) subtracts its model of the echo; what it misses
is still loud enough for a level-based VAD, which needs only 100 ms above -45 dBFS: nothing is
removed before the filter has converged (the first ~0.5 s of the first reply), and a path whose
delay wanders or skips (the virtual loop of the tests: ~30 ms about once a second) is cancelled by
only 9-12 dB. Every echo canceller pairs its filter with this "non-linear processor".

Per 20 ms frame that the canceller processes, the suppressor compares three levels:

- the reference's: the loudest frame the speaker played in the last ``WINDOW_MS`` (the filter's
  length), so the echo's delay and reverberant tail are covered;
- the cancelled frame's, against the residual echo expected from that reference (the reference's
  level plus the learned *residual coupling*, which is the echo's level after cancellation over the
  reference's);
- the microphone's, against the echo expected before cancellation (the reference plus the learned
  *echo coupling*). A filter that has lost the path (a skip) lets the residual jump up, but not the
  microphone: only the user makes the microphone louder than its echo.

The frame is the user's (double talk) when the cancelled frame is ``MARGIN_DB`` above its expected
residual and the microphone ``RAW_MARGIN_DB`` above its expected echo, and the cancelled frame is
above ``FLOOR_DBFS``; it then passes, and so do the next ``HANGOVER_FRAMES`` frames that are merely
above their expected residual (word tails, short dips). Any other frame is the echo: it is silenced.
Gain changes are ramped across the frame (no clicks).

Both couplings are learned from the frames where the speaker is clearly playing (``LEARN_DBFS``)
and no double talk was detected, as the ratio of two power averages over ``AVERAGE_S``: loud frames
weigh most, so the word edges (where the echo of the last 200 ms' loudest frame has already faded)
do not drag them down, and a few of the user's quieter syllables taken for echo only raise them a
little. Measured on the tests' acoustic loop (echo 10 dB under the played sound): the echo coupling
settles at about -14 dB with frames peaking at -10 dB, and the user, 10 dB louder than the echo,
at about 0 dB, so ``RAW_MARGIN_DB`` leaves 3-5 dB on the echo's side and 7 on the user's; the
residual coupling settles at -20 to -24 dB. On the synthetic room (``bench/echo_room.py``),
whose reverberant echo peaks 7 dB over its average, nothing of the echo alone is left (the loudest
10 ms: -30 dBFS after the filter, silence after this), and a user 9 dB louder than the echo passes
as the filter leaves them; one only 3 dB louder is within the echo's spread and loses ~6 dB
(300 Hz-8 kHz): a level-based detector cannot tell them from the echo.

Both start at ``PRIOR_COUPLING_DB``, -10 dB: an echo 10 dB under what the speaker plays, loudspeakers
near the microphone at a high volume (the tests' loop; a speaker a little way off is 20-30 dB down).
So the first frames of the first reply, before anything is learned or the filter has converged,
are suppressed too; the prior fades over the first ~0.5 s of the reply. It is not 0 dB (a laptop
at full volume): then a user who starts to speak with the reply, as loud as it, would lose their
first word (measured: "save all files" heard as "el al is").

While the speaker is quiet the canceller does not call this at all: frames pass untouched, and the
suppressor rests (:meth:`ResidualEchoSuppressor.rest`).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from voicepilot.audio.frames import FRAME_MS, Pcm, rms_dbfs

WINDOW_MS = 200  # the echo canceller's filter length: the echo's delay and tail
PRIOR_COUPLING_DB = -10.0  # see the module notes
MARGIN_DB = 6.0  # the user over the expected residual echo
RAW_MARGIN_DB = 7.0  # the microphone over its expected echo
FLOOR_DBFS = -55.0  # quieter frames are not worth passing while the speaker plays
LEARN_DBFS = -50.0  # the reference must be this loud to learn the couplings from a frame
HANGOVER_FRAMES = 4  # 80 ms after the user's speech: word tails and short dips pass
AVERAGE_S = 0.4  # the couplings' power averages
PRIOR_FAR_DBFS = -20.0  # the priors weigh as much as a reply at this level


class ResidualEchoSuppressor:
    """Silences the cancelled frames that hold only echo while the speaker plays (see the module notes)."""

    def __init__(self, prior_db: float = PRIOR_COUPLING_DB) -> None:
        self.prior_db = prior_db
        self.frames_suppressed = 0
        self.frames_double_talk = 0
        self._references: deque[float] = deque(maxlen=WINDOW_MS // FRAME_MS)
        self.reset()

    def reset(self) -> None:
        """Another room: forget the couplings."""
        self.residual = _Coupling(self.prior_db)
        self.echo = _Coupling(self.prior_db)
        self.rest()

    def rest(self) -> None:
        """The speaker has been quiet for longer than the window and frames pass untouched (the
        canceller skips them): the next reply starts from that, not from the last one's levels,
        gain and hangover. The couplings, what was learned of the room, stay."""
        self._references.clear()
        self._hangover = 0
        self._gain = 1.0

    def process(self, near: Pcm, out: Pcm, reference: Pcm) -> Pcm:
        """``out``, the cancelled ``near``, with the echo left in it silenced; ``reference``: what was played."""
        self._references.append(rms_dbfs(reference))
        far_db = max(self._references)
        near_db, out_db = rms_dbfs(near), rms_dbfs(out)
        residual, echo = out_db - far_db, near_db - far_db
        above_residual = residual > self.residual.db + MARGIN_DB
        above_echo = echo > self.echo.db + RAW_MARGIN_DB
        if out_db > FLOOR_DBFS and above_residual and above_echo:
            self.frames_double_talk += 1
            self._hangover = HANGOVER_FRAMES
            return self._apply(out, 1.0)
        if self._hangover > 0 and out_db > FLOOR_DBFS and residual > self.residual.db:
            self._hangover -= 1
            return self._apply(out, 1.0)
        self._hangover = 0
        if far_db > LEARN_DBFS:
            self.residual.learn(out_db, far_db)
            self.echo.learn(near_db, far_db)
        if out.any():
            self.frames_suppressed += 1
        return self._apply(out, 0.0)

    def stats(self) -> dict[str, float]:
        return {
            "echoFramesSuppressed": float(self.frames_suppressed),
            "echoFramesDoubleTalk": float(self.frames_double_talk),
            "echoCouplingDb": round(self.residual.db, 1),
        }

    def _apply(self, out: Pcm, gain: float) -> Pcm:
        previous, self._gain = self._gain, gain
        if previous == gain:
            return out if gain == 1.0 else np.zeros_like(out)
        ramp = np.linspace(previous, gain, out.size, endpoint=False, dtype=np.float32)
        shaped: Pcm = np.round(out.astype(np.float32) * ramp).astype(np.int16)
        return shaped


class _Coupling:
    """How much louder (dB) one level runs than the reference's: power averages over about ``AVERAGE_S``."""

    def __init__(self, prior_db: float) -> None:
        self._far = _power(PRIOR_FAR_DBFS)
        self._near = self._far * 10 ** (prior_db / 10)

    @property
    def db(self) -> float:
        return 10 * math.log10(max(self._near, 1e-30) / self._far)

    def learn(self, near_db: float, far_db: float) -> None:
        keep = 1 - FRAME_MS / 1000 / AVERAGE_S
        self._near = keep * self._near + (1 - keep) * _power(near_db)
        self._far = keep * self._far + (1 - keep) * _power(far_db)


def _power(level_db: float) -> float:
    return 10 ** (level_db / 10)
