"""PCM frame helpers: the one place that knows aiortc's and Opus's frame layout.

WebRTC audio here is 48 kHz, 20 ms (960-sample) frames. aiortc accepts mono s16 frames for
sending and hands back s16 *stereo* packed frames when receiving.
"""

from __future__ import annotations

import fractions

import av
import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 48_000
FRAME_MS = 20
FRAME_S = FRAME_MS / 1000
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)

Pcm = npt.NDArray[np.int16]

SILENCE: Pcm = np.zeros(FRAME_SAMPLES, dtype=np.int16)


def make_frame(samples: Pcm, pts: int, sample_rate: int = SAMPLE_RATE) -> av.AudioFrame:
    """A mono s16 frame. PyAV wants a 2-D (channels, samples) array for packed formats."""
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, sample_rate)
    return frame


def silent_frame(samples: int, pts: int) -> av.AudioFrame:
    """A mono s16 frame of ``samples`` of digital silence: what :func:`make_frame` of zeros gives,
    for a third of its cost (no array to convert, no time base made)."""
    frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
    plane = frame.planes[0]
    plane.update(bytes(plane.buffer_size))
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


def frame_to_mono(frame: av.AudioFrame) -> Pcm:
    """Mono int16 samples of a received frame (s16 packed, any channel count)."""
    data = frame.to_ndarray().reshape(-1)
    channels = frame.layout.nb_channels  # a count: len(layout.channels) builds a tuple of channel objects
    if channels == 1:
        mono: Pcm = data.astype(np.int16, copy=False)
        return mono
    # Adding the channel columns: a reduction along the short axis (mean or sum) costs ~10x more,
    # 50 times a second per stream.
    interleaved = data.reshape(-1, channels).astype(np.int32)
    total = interleaved[:, 0].copy()
    for channel in range(1, channels):
        total += interleaved[:, channel]
    mixed: Pcm = (total // channels).astype(np.int16)
    return mixed


def rms_dbfs(samples: Pcm) -> float:
    if samples.size == 0:
        return -120.0
    # A dot product is 4x cheaper than square-then-mean (called per frame at several places).
    as_float = samples.astype(np.float32)
    rms = (float(np.dot(as_float, as_float)) / samples.size) ** 0.5
    return 20.0 * float(np.log10(max(rms, 1e-3) / 32768.0))


class Resampler:
    """A mono s16 resampler for one stream (PyAV's resamplers are stateful, one per stream)."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self._in_rate = in_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=out_rate)
        self._pts = 0

    def resample(self, samples: Pcm) -> Pcm:
        frame = make_frame(samples, self._pts, self._in_rate)
        self._pts += samples.size
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out).astype(np.int16) if out else np.zeros(0, dtype=np.int16)
