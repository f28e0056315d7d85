"""The encoder's answer to reported loss: FEC hint steps, bitrate, hysteresis, RTCP's 0-255 scale."""

from __future__ import annotations

import numpy as np

from voicepilot.audio.frames import FRAME_SAMPLES, make_frame
from voicepilot.audio.loss_policy import (
    BASE_BITRATE,
    MAX_BITRATE,
    MAX_HINT_PCT,
    EncoderSettings,
    LossPolicy,
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
