"""How the Opus encoder answers packet loss: the loss hint for in-band FEC and the bitrate.

The peer's RTCP receiver reports carry ``fraction lost`` (0-255, the share of packets lost since
the last report, in 256ths). :class:`LossPolicy` smooths it and maps it to
:class:`EncoderSettings`: libopus's ``packet_loss`` hint (percent; with FEC on, the encoder adds a
low-bitrate copy of each frame to the next packet when the hint is high enough) and a bitrate
raised with it so the redundancy does not starve the frame itself. Settings change in steps, with
hysteresis: each change restarts the encoder. :func:`follow_receiver_reports` feeds a sender's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import RTCRtpSender

log = logging.getLogger(__name__)

BASE_BITRATE = 32_000  # wideband speech is transparent well below this; the service resamples to 24 kHz
MAX_BITRATE = 48_000
BITRATE_PER_LOSS_PCT = 800  # 20 % loss: +16 kbit/s, about what libopus's FEC copy of a frame costs
STEP_PCT = 5  # the hint moves in steps of this many percent
MAX_HINT_PCT = 30  # beyond this more redundancy buys little; libopus takes up to 100
REPORT_POLL_S = 1.0  # aiortc receives a receiver report about every second; its latest is read this often
SMOOTHING = 0.5  # weight of a new report (one every second or so): a burst moves the hint quickly
# Until the first report (a second or more into the call, when the first words are already going
# out) a call is sent as if it lost this much; the reports of a clean path take it to 0 in about 5 s.
INITIAL_HINT_PCT = 10
RELAX_MARGIN_PCT = 2.0  # the hint comes down only once the smoothed loss is this far inside the lower step


@dataclass(frozen=True)
class EncoderSettings:
    packet_loss_pct: int = 0
    bitrate: int = BASE_BITRATE
    fec: bool = True  # in-band FEC on: libopus adds it only when the hint asks for it


def settings_for(loss_pct: int) -> EncoderSettings:
    """The encoder's settings for a loss hint of ``loss_pct`` percent."""
    bitrate = min(MAX_BITRATE, BASE_BITRATE + BITRATE_PER_LOSS_PCT * loss_pct)
    return EncoderSettings(packet_loss_pct=loss_pct, bitrate=bitrate)


def fraction_lost_pct(fraction_lost: int) -> float:
    """RTCP's ``fraction lost`` (RFC 3550: an 8-bit fixed-point fraction, 0-255) in percent."""
    return max(0, min(255, fraction_lost)) * 100 / 256


class LossPolicy:
    """Turns receiver reports into encoder settings (``update`` returns new ones when they change)."""

    def __init__(self, initial_pct: int = 0) -> None:
        self.smoothed_pct = float(initial_pct)
        self.settings = settings_for(self._step(initial_pct))

    def update(self, fraction_lost: int) -> EncoderSettings | None:
        """Take one report's ``fraction lost`` (0-255); the new settings, or None when they stay."""
        reported = fraction_lost_pct(fraction_lost)
        self.smoothed_pct += SMOOTHING * (reported - self.smoothed_pct)
        current = self.settings.packet_loss_pct
        wanted = self._step(self.smoothed_pct)
        if 0 < wanted < current and self.smoothed_pct > current - STEP_PCT - RELAX_MARGIN_PCT:
            return None  # not clearly below the current step yet: no restart for a wobble
        if wanted == current:
            return None
        self.settings = settings_for(wanted)
        return self.settings

    @staticmethod
    def _step(pct: float) -> int:
        """``pct`` rounded up to a step (any loss at all asks for some redundancy), capped."""
        steps = -int(-pct // STEP_PCT) if pct > 0.5 else 0
        return min(MAX_HINT_PCT, steps * STEP_PCT)


async def follow_receiver_reports(
    sender: RTCRtpSender, policy: LossPolicy, apply: Callable[[EncoderSettings], None]
) -> None:
    """Until cancelled: each new receiver report the peer sends about ``sender``'s stream goes to
    ``policy``, and settings it changes to ``apply`` (the encoding track's)."""
    last: object = None
    while True:
        await asyncio.sleep(REPORT_POLL_S)
        if sender.transport.state == "closed":
            return  # the call is over
        for entry in (await sender.getStats()).values():
            # A new report only (aiortc stamps each when it arrives): one read twice would weigh double.
            fresh = entry.type == "remote-inbound-rtp" and entry.timestamp != last
            if not fresh or entry.fractionLost is None:
                continue
            last = entry.timestamp
            if (settings := policy.update(int(entry.fractionLost))) is not None:
                log.info(
                    "loss %.0f %%: Opus FEC hint %d %%, %d bit/s",
                    policy.smoothed_pct,
                    settings.packet_loss_pct,
                    settings.bitrate,
                )
                apply(settings)
