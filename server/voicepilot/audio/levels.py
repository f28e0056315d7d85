"""Level metering for the level indicator (``voicepilot/audioLevel``)."""

from __future__ import annotations

from voicepilot.audio.frames import Pcm, rms_dbfs

FLOOR_DBFS = -120.0


class LevelMeter:
    """The loudest 20 ms RMS level (dBFS) seen since the last :meth:`take`."""

    def __init__(self) -> None:
        self._peak = FLOOR_DBFS
        self.last = FLOOR_DBFS

    def update(self, samples: Pcm) -> float:
        level = rms_dbfs(samples)
        self.last = level
        self._peak = max(self._peak, level)
        return level

    def take(self) -> float:
        peak, self._peak = self._peak, FLOOR_DBFS
        return round(peak, 1)
