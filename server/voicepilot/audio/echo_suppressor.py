"""Residual echo suppression: what the adaptive filter left of the echo, silenced while the speaker plays.

The echo canceller misses enough for a level-based VAD to hear (nothing before it has converged,
little from a path that wanders). Per processed frame this "non-linear processor" compares the
reference's level (loudest played frame in the last ``WINDOW_MS``), the cancelled frame's against its
expected residual, and the microphone's against its expected echo: a frame well above both
(``MARGIN_DB``, ``RAW_MARGIN_DB``) and above ``FLOOR_DBFS`` is the user's and passes, with a
``HANGOVER_FRAMES`` hangover; any other is echo and is silenced, gains ramped across the frame. Both
couplings are learned from frames where the speaker clearly plays, starting at ``PRIOR_COUPLING_DB``.
While the speaker is quiet it rests (:meth:`ResidualEchoSuppressor.rest`). Numbers: docs/performance.md.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from voicepilot.audio.frames import FRAME_MS, Pcm, rms_dbfs

WINDOW_MS = 200  # the echo canceller's filter length: the echo's delay and tail
PRIOR_COUPLING_DB = -10.0  # loudspeakers near the microphone, loud; 0 dB cost a first word (docs/performance.md)
MARGIN_DB = 6.0  # the user over the expected residual echo
RAW_MARGIN_DB = 7.0  # the microphone over its expected echo
FLOOR_DBFS = -55.0  # quieter frames are not worth passing while the speaker plays
LEARN_DBFS = -50.0  # the reference must be this loud to learn the couplings from a frame
HANGOVER_FRAMES = 4  # 80 ms after the user's speech: word tails and short dips pass
AVERAGE_S = 0.4  # the couplings' power averages
PRIOR_FAR_DBFS = -20.0  # the priors weigh as much as a reply at this level


class ResidualEchoSuppressor:
    """Silences the cancelled frames that hold only echo while the speaker plays (module docstring)."""

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
