"""A small ctypes binding to the system libopus decoder, for what PyAV's decoder cannot do.

PyAV decodes only the packets it is given: a lost packet cannot be recovered from the next one's
in-band FEC, nor concealed (PLC). :class:`OpusDecoder` decodes mono 48 kHz s16 with both. When the
library cannot be loaded, :func:`load_problem` says why and callers keep PyAV's decoder (lost packets
are skipped, as before).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

import numpy as np

from voicepilot.audio.frames import SAMPLE_RATE, Pcm

log = logging.getLogger(__name__)

MAX_FRAME_SAMPLES = SAMPLE_RATE * 120 // 1000  # RFC 6716: the most audio one packet holds
OPUS_OK = 0


class _Library:
    def __init__(self, lib: ctypes.CDLL) -> None:
        self.create = lib.opus_decoder_create
        self.create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        self.create.restype = ctypes.c_void_p
        self.destroy = lib.opus_decoder_destroy
        self.destroy.argtypes = [ctypes.c_void_p]
        self.destroy.restype = None
        self.decode = lib.opus_decode
        self.decode.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int32,
            ctypes.POINTER(ctypes.c_int16),
            ctypes.c_int,
            ctypes.c_int,
        ]
        self.decode.restype = ctypes.c_int
        self.strerror = lib.opus_strerror
        self.strerror.argtypes = [ctypes.c_int]
        self.strerror.restype = ctypes.c_char_p


@cache
def _load() -> _Library | str:
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    try:
        return _Library(ctypes.CDLL(name))
    except (OSError, AttributeError) as exc:
        problem = f"libopus could not be loaded ({exc})"
        log.warning("%s: lost packets are skipped, not concealed", problem)  # once: the result is cached
        return problem


def load_problem() -> str | None:
    """Why libopus cannot be used here, or None when it can."""
    loaded = _load()
    return loaded if isinstance(loaded, str) else None


def has_fec(data: bytes) -> bool:
    """Whether a mono packet carries in-band FEC for the one before it: the LBRR flag after its
    first SILK frame's VAD flags (what libopus 1.5's ``opus_packet_has_lbrr`` reads; the system's
    may be older). Only its first frame's, which is where the previous packet's copy is."""
    if len(data) < 2:
        return False
    config, code = data[0] >> 3, data[0] & 0x3
    if config >= 16:
        return False  # CELT only: no SILK layer, no LBRR
    frame_ms = (10, 20, 40, 60)[config % 4] if config < 12 else (10, 20)[config % 2]
    silk_frames = max(1, frame_ms // 20)
    if code in (0, 1):
        first = 1
    elif code == 2:
        first = 3 if len(data) > 1 and data[1] >= 252 else 2  # after the first frame's length
    else:
        if len(data) < 3:
            return False
        if data[1] & 0x40:  # padding: its length bytes (255 means more follow) come first
            first = 2
            while first < len(data) and data[first] == 255:
                first += 1
            first += 1
        else:
            first = 2
        if not data[1] & 0x80:  # CBR; VBR has the frames' lengths next (one or two bytes each)
            pass
        else:
            count = data[1] & 0x3F
            for _ in range(count - 1):
                if first >= len(data):
                    return False
                first += 2 if data[first] >= 252 else 1
    if first >= len(data):
        return False
    return bool((data[first] >> (7 - silk_frames)) & 0x1)


class OpusError(Exception):
    pass


class OpusDecoder:
    """One mono 48 kHz libopus decoder (its state carries from packet to packet)."""

    def __init__(self) -> None:
        loaded = _load()
        if isinstance(loaded, str):
            raise OpusError(loaded)
        self._lib = loaded
        error = ctypes.c_int(0)
        self._state = loaded.create(SAMPLE_RATE, 1, ctypes.byref(error))
        if error.value != OPUS_OK or not self._state:
            raise OpusError(f"opus_decoder_create failed: {self._message(error.value)}")
        self._out = np.zeros(MAX_FRAME_SAMPLES, dtype=np.int16)
        self._out_pointer = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_int16))

    def decode(self, data: bytes) -> Pcm:
        """The audio of one packet."""
        return self._run(data, MAX_FRAME_SAMPLES, fec=False)

    def decode_fec(self, data: bytes, samples: int) -> Pcm:
        """The ``samples`` before ``data`` (a lost packet's), from the redundancy ``data`` carries; PLC
        when it carries none."""
        return self._run(data, samples, fec=True)

    def conceal(self, samples: int) -> Pcm:
        """``samples`` of packet-loss concealment, continuing what was decoded last."""
        return self._run(None, samples, fec=False)

    def _run(self, data: bytes | None, samples: int, fec: bool) -> Pcm:
        samples = min(samples, MAX_FRAME_SAMPLES)
        length = len(data) if data is not None else 0
        count = self._lib.decode(self._state, data, length, self._out_pointer, samples, int(fec))
        if count < 0:
            raise OpusError(self._message(count))
        decoded: Pcm = self._out[:count].copy()
        return decoded

    def _message(self, code: int) -> str:
        text = self._lib.strerror(code)
        return text.decode() if text else str(code)

    def __del__(self) -> None:
        state = getattr(self, "_state", None)
        if state:
            self._lib.destroy(state)
            self._state = None
