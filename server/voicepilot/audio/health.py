"""Whether a device has failed: hard evidence at once, a stall of callbacks only once confirmed.

PortAudio says a stream ended (its finished callback, ``stream.active`` false); the sound server
says a device went (no longer listed, checked by the supervisor). Callbacks that stop are only a
suspicion: an idle output on a PulseAudio null sink with no other client stops calling back for
1.9-2.0 s after each underrun on a loaded machine, stream active and device listed, then resumes.
A stall is a failure once it has lasted ``CONFIRM_S`` with the stream still active.
"""

from __future__ import annotations

import logging

from voicepilot.audio.devices import DEFAULT_DEVICE, SERVER_DEFAULT, Device
from voicepilot.audio.stream import FIRST_CALLBACK_S, STALL_S, DeviceStream

log = logging.getLogger(__name__)

# More than twice the longest stall an idle null sink recovered from by itself (2.0 s).
CONFIRM_S = 5.0
FIRST_CONFIRM_S = FIRST_CALLBACK_S + CONFIRM_S - STALL_S


class HealthJudge:
    """Watches one kind of device; ``suspicions`` counts stalls seen, confirmed or not."""

    def __init__(self) -> None:
        self.suspicions = 0
        # The stall under suspicion: its stream and the last callback before it.
        self._suspected: tuple[DeviceStream, float | None] | None = None
        self._longest_s = 0.0

    def failure(self, stream: DeviceStream, now: float) -> str | None:
        """Why ``stream`` has failed, or None: it works, or a stall is not yet confirmed."""
        problem = stream.problem()
        if problem is not None:
            return problem
        silent = stream.silent_for(now)
        delivered = stream.last_callback_at is not None
        suspect_s, confirm_s = (STALL_S, CONFIRM_S) if delivered else (FIRST_CALLBACK_S, FIRST_CONFIRM_S)
        if silent is None or silent <= suspect_s:
            if self._suspected is not None and self._suspected[0] is stream:
                log.info(
                    "%s %s delivers again (no callbacks for ~%.1f s)",
                    stream.device.kind,
                    stream.device.name,
                    self._longest_s,
                )
            self._suspected = None
            return None
        if self._suspected != (stream, stream.last_callback_at):
            self._suspected = (stream, stream.last_callback_at)
            self.suspicions += 1
            log.info(
                "%s %s: no callbacks for %.1f s (stream active): a suspicion, confirmed after %.0f s",
                stream.device.kind, stream.device.name, silent, confirm_s,
            )  # fmt: skip
        self._longest_s = silent
        if silent <= confirm_s:
            return None
        if not delivered:
            return f"no audio arrived within {confirm_s:.0f} s of opening it"
        return f"it stopped delivering audio for more than {confirm_s:.0f} s"


def reaches(device: Device, listing: list[Device]) -> str:
    """What ``device`` plays to or records from: the sound server's device for the ALSA default
    and pulse PCMs (the server default, when the listing names it), else the device itself."""
    if device.pulse_name is not None:
        return device.pulse_name
    if device.name in (DEFAULT_DEVICE, "pulse"):
        server_default = next((d for d in listing if d.description.endswith(SERVER_DEFAULT)), None)
        if server_default is not None and server_default.pulse_name is not None:
            return server_default.pulse_name
    return device.name
