"""Unit-test fixtures: a fake ``sounddevice`` for the audio tests."""

from __future__ import annotations

import pytest

from tests.unit.audio_fakes import FakeSounddevice, device
from voicepilot.audio import devices


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> FakeSounddevice:
    fake = FakeSounddevice(devices=[device("Built-in Microphone", 1, 0), device("Speakers", 0, 2)])
    monkeypatch.setattr(devices, "_sd", fake)
    monkeypatch.setattr(devices, "_pactl", lambda *args: None)
    return fake
