"""Which sound server device a device reaches: 'default' and 'pulse' are the server's default."""

from __future__ import annotations

from voicepilot.audio.devices import SERVER_DEFAULT, Device
from voicepilot.audio.health import reaches


def dev(name: str, pulse_name: str | None = None, description: str | None = None) -> Device:
    return Device(name, "output", description or name, "ALSA", 2, 48_000, False, 0, pulse_name)


def test_the_alsa_default_reaches_the_servers_default_and_a_named_device_itself() -> None:
    listing = [
        dev("default"),
        dev("pulse"),
        dev("speaker", "speaker", "Null Output" + SERVER_DEFAULT),
        dev("hdmi", "hdmi"),
    ]
    assert reaches(dev("default"), listing) == "speaker"
    assert reaches(dev("pulse"), listing) == "speaker"
    assert reaches(dev("speaker", "speaker"), listing) == "speaker"
    assert reaches(dev("hdmi", "hdmi"), listing) == "hdmi"


def test_without_a_sound_server_a_device_is_itself() -> None:
    listing = [dev("default"), dev("Built-in")]
    assert reaches(dev("default"), listing) == "default"
    assert reaches(dev("Built-in"), listing) == "Built-in"
