"""What the microphone and the speaker share: opening a PortAudio stream and watching it.

A device can fail in two ways while a stream runs: PortAudio stops the stream (an unplugged ALSA
device ends the callback thread; ``finished_callback`` tells us), or the callbacks simply stop
coming (a suspended or wedged device, or only a sound server catching up). Neither raises anywhere
we could catch it, so the owner asks :meth:`DeviceStream.problem` and :meth:`DeviceStream.silent_for`
now and then.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

from voicepilot.audio.blocking import call_soon, run_blocking
from voicepilot.audio.devices import Device, classify, device_error, is_sample_rate_error, opening, portaudio
from voicepilot.audio.frames import FRAME_MS, SAMPLE_RATE
from voicepilot.errors import VoicePilotError
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
# A running stream whose callbacks stop for this long may have stalled (audio/health.py confirms
# it). The first callback may take longer: sound servers start streams lazily.
STALL_S = 1.0
FIRST_CALLBACK_S = 3.0


class DeviceStream:
    """One PortAudio stream on one device, mono int16, ``block_ms`` blocks at the device's own rate.

    PortAudio's ALSA backend queues two blocks, so the block size sets the latency the device adds.
    """

    block_ms = FRAME_MS

    def __init__(self, device: Device) -> None:
        self.device = device
        self.rate = device.sample_rate
        self.callbacks = 0
        self.status_flags = 0
        self._stream: Any = None
        self._closing = False
        self._ended_by_device = False
        self._opened_at: float | None = None
        self.last_callback_at: float | None = None
        # PortAudio's estimate of the device side latency of the open stream.
        self.latency_s = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ subclass hooks

    def _stream_class(self, sd: Any) -> Any:
        raise NotImplementedError

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Open and start the stream at the device's native rate (48 kHz if that is refused)."""
        self._loop = asyncio.get_running_loop()
        sd = portaudio()
        rates = list(dict.fromkeys([self.device.sample_rate, SAMPLE_RATE, 44_100]))
        last: Exception | None = None
        for rate in rates:
            try:
                self._stream = await run_blocking(functools.partial(self._start, sd, rate), OPEN_TIMEOUT_S)
            except sd.PortAudioError as exc:
                last = exc
                if is_sample_rate_error(exc):
                    continue
                raise classify(exc, self.device.kind, self.device) from exc
            except TIMEOUT_ERRORS as exc:
                raise device_error(
                    f"The {self.device.kind} device '{self.device.name}' did not open within {OPEN_TIMEOUT_S:.0f} s.",
                    "Another application may hold it: close it, or choose another device.",
                    code="device_busy",
                ) from exc
            self.rate = rate
            self.latency_s = float(self._stream.latency)
            self._opened_at = time.monotonic()
            log.info("%s opened: %s at %d Hz", self.device.kind, self.device.name, rate)
            return
        assert last is not None
        raise classify(last, self.device.kind, self.device) from last

    def _start(self, sd: Any, rate: int) -> Any:
        with opening(self.device):
            stream = self._stream_class(sd)(
                device=self.device.portaudio_index,
                samplerate=rate,
                channels=1,
                dtype="int16",
                blocksize=rate * self.block_ms // 1000,
                latency="low",
                callback=self._on_callback,
                finished_callback=self._on_finished,
            )
        try:
            stream.start()
        except Exception:
            stream.close(ignore_errors=True)
            raise
        return stream

    def _on_callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: never raise, never block.
        self.last_callback_at = time.monotonic()
        self.callbacks += 1
        if status:
            self.status_flags += 1
        self._callback(data, frames, time_info, status)

    def device_time(self, time_info: Any, field: str, fallback_s: float) -> float:
        """When (``time.monotonic()``) this callback's buffer meets the device.

        PortAudio's ``time_info.<field>`` (``inputBufferAdcTime`` or ``outputBufferDacTime``) is on
        the stream's own clock: its distance from ``currentTime`` is moved onto the monotonic clock.
        A host API that reports no times gets ``fallback_s`` from now (the stream's latency).
        """
        now = self.last_callback_at if self.last_callback_at is not None else time.monotonic()
        try:
            current, at = float(time_info.currentTime), float(getattr(time_info, field))
        except (AttributeError, TypeError, ValueError):
            return now + fallback_s
        if current <= 0 or at <= 0 or abs(at - current) > 1.0:
            return now + fallback_s
        return now + at - current

    def _on_finished(self) -> None:
        if not self._closing:
            self._ended_by_device = True

    def call_on_loop(self, fn: Any, *args: Any) -> None:
        """From PortAudio's thread: run ``fn`` on the event loop (dropped once the loop is gone)."""
        if self._loop is not None:
            call_soon(self._loop, fn, *args)

    def problem(self) -> str | None:
        """Why the stream has ended (PortAudio says so), or None. A stall is judged elsewhere
        (:mod:`voicepilot.audio.health`): callbacks that stop are only a suspicion."""
        if self._stream is None or self._closing:
            return None
        if self._ended_by_device:
            return "the device stopped the stream"
        try:
            active = bool(getattr(self._stream, "active", True))
        except Exception as exc:  # sounddevice raises PortAudioError for an error code
            return f"PortAudio reports an error: {exc}"
        return None if active else "PortAudio reports the stream inactive"

    def silent_for(self, now: float | None = None) -> float | None:
        """Seconds since the last callback (since opening, before the first), or None when closed."""
        if self._stream is None or self._closing:
            return None
        since = self.last_callback_at if self.last_callback_at is not None else self._opened_at
        if since is None:
            return None
        return (time.monotonic() if now is None else now) - since

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        self._closing = True
        if stream is None:
            return
        try:
            await run_blocking(lambda: stream.close(ignore_errors=True), CLOSE_TIMEOUT_S)
        except TIMEOUT_ERRORS:
            log.warning("closing the %s %s timed out; abandoning it", self.device.kind, self.device.name)
        except VoicePilotError:
            raise
        except Exception as exc:  # a failing device must not fail the session's shutdown
            log.warning("closing the %s %s failed: %s", self.device.kind, self.device.name, exc)
