"""The encoder's answer to reported loss: FEC hint steps, bitrate, hysteresis, RTCP's 0-255 scale."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from voicepilot.audio import loss_policy
from voicepilot.audio.frames import FRAME_SAMPLES, make_frame
from voicepilot.audio.loss_policy import (
    BASE_BITRATE,
    INITIAL_HINT_PCT,
    MAX_BITRATE,
    MAX_HINT_PCT,
    EncoderSettings,
    LossPolicy,
    follow_receiver_reports,
    fraction_lost_pct,
    settings_for,
)
from voicepilot.audio.opus import voice_encoder


def test_fraction_lost_is_read_in_256ths() -> None:
    assert fraction_lost_pct(0) == 0
    assert fraction_lost_pct(26) == 26 * 100 / 256  # about 10 %, not 26 %
    assert fraction_lost_pct(255) < 100
    assert fraction_lost_pct(300) == fraction_lost_pct(255)


def test_no_loss_keeps_the_base_settings() -> None:
    policy = LossPolicy()
    assert all(policy.update(0) is None for _ in range(10))
    assert policy.settings == EncoderSettings(packet_loss_pct=0, bitrate=BASE_BITRATE)


def test_ten_percent_loss_raises_the_hint_and_the_bitrate() -> None:
    policy = LossPolicy()
    changes = [policy.update(25) for _ in range(6)]
    assert [c for c in changes if c is not None][-1] == policy.settings
    assert policy.settings.packet_loss_pct == 10
    assert policy.settings.fec
    assert BASE_BITRATE < policy.settings.bitrate <= MAX_BITRATE


def test_heavy_loss_is_capped() -> None:
    policy = LossPolicy()
    for _ in range(10):
        policy.update(200)
    assert policy.settings.packet_loss_pct == MAX_HINT_PCT
    assert policy.settings.bitrate == MAX_BITRATE


def test_a_wobble_does_not_restart_the_encoder_but_a_clear_drop_does() -> None:
    policy = LossPolicy()
    for _ in range(8):
        policy.update(25)  # ~9.8 %
    assert policy.settings.packet_loss_pct == 10
    # ~9 % then ~8 %: still the 10 % step's neighbourhood, no change.
    assert policy.update(23) is None
    assert policy.update(20) is None
    changed = [policy.update(0) for _ in range(8)]
    assert any(c is not None for c in changed)
    assert policy.settings.packet_loss_pct == 0


def test_one_lossy_report_is_enough_to_ask_for_fec() -> None:
    policy = LossPolicy()
    assert policy.update(26) is not None  # smoothed to ~5 %: FEC at once, not after seconds
    assert policy.settings.packet_loss_pct > 0


def test_settings_grow_with_loss() -> None:
    rates = [settings_for(pct).bitrate for pct in range(0, 35, 5)]
    assert rates == sorted(rates)


def test_the_encoder_adds_fec_when_the_hint_asks_for_it() -> None:
    tone = (np.sin(np.arange(FRAME_SAMPLES * 50) / 7) * 8000).astype(np.int16)

    def sizes(settings: EncoderSettings | None) -> int:
        encoder = voice_encoder(loss=settings)
        total = 0
        for index in range(50):
            frame = make_frame(tone[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES], index * FRAME_SAMPLES)
            total += sum(len(bytes(p)) for p in encoder.encode(frame))
        return total

    # Same bitrate, one with FEC: the FEC copy takes bytes (libopus spends the budget differently,
    # so only "not identical" is certain), and the raised bitrate of 20 % loss costs more.
    assert sizes(EncoderSettings(packet_loss_pct=20, bitrate=BASE_BITRATE)) != sizes(None)
    assert sizes(settings_for(20)) > sizes(None)


class FakeSender:
    """What follow_receiver_reports reads of an RTCRtpSender: its stats, then a closed transport."""

    def __init__(self, reports: list[tuple[int, int]]) -> None:
        self._reports = reports  # (arrival stamp, fraction lost), one per poll
        self.transport = SimpleNamespace(state="connected")

    async def getStats(self) -> dict[str, Any]:  # aiortc's name
        stamp, fraction = self._reports.pop(0)
        if not self._reports:
            self.transport.state = "closed"
        entry = SimpleNamespace(type="remote-inbound-rtp", timestamp=stamp, fractionLost=fraction)
        return {"remote": entry, "other": SimpleNamespace(type="outbound-rtp", timestamp=stamp)}


async def test_each_new_receiver_report_moves_the_encoder_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loss_policy, "REPORT_POLL_S", 0)
    # The same report read twice (no new one in between) counts once.
    sender = FakeSender([(1, 64), (1, 64), (2, 64), (3, 64), (4, 0)])
    applied: list[EncoderSettings] = []
    policy = LossPolicy()
    await asyncio.wait_for(follow_receiver_reports(sender, policy, applied.append), 5)  # type: ignore[arg-type]
    # 25 %: 12.5 then 18.75 then 21.9 smoothed (three reports, not four), then one at 0: 10.9,
    # clearly inside a lower step.
    assert [s.packet_loss_pct for s in applied] == [15, 20, 25, 15]
    assert policy.smoothed_pct == pytest.approx(25 * 0.875 / 2)


def test_a_call_starts_protected_and_a_clean_path_relaxes_it_within_seconds() -> None:
    policy = LossPolicy(INITIAL_HINT_PCT)
    assert policy.settings == settings_for(INITIAL_HINT_PCT)
    reports = 0
    while policy.settings.packet_loss_pct and reports < 20:
        policy.update(0)
        reports += 1
    assert policy.settings == EncoderSettings()
    assert reports <= 6  # a report a second
