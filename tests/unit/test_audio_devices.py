"""Loading PortAudio, listing and finding devices, and explaining device failures."""

from __future__ import annotations

import builtins
import errno
import json
import os
from typing import Any

import pytest

from tests.unit.audio_fakes import FakeSounddevice, PortAudioError, device
from voicepilot.audio import devices
from voicepilot.audio.devices import classify, find_device, list_devices, opening
from voicepilot.errors import ErrorKind, VoicePilotError


def test_missing_portaudio_is_a_device_error_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_portaudio(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(devices, "_sd", None)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(VoicePilotError) as raised:
        devices.portaudio()
    assert raised.value.kind is ErrorKind.DEVICE
    assert raised.value.code == "portaudio_missing"
    assert "apt-get install libportaudio2" in raised.value.next_step


@pytest.mark.parametrize(
    ("platform", "steps"),
    [
        ("linux", ("sudo apt-get install libportaudio2", "sudo dnf install portaudio")),
        ("darwin", ("pip install --force-reinstall sounddevice",)),
        ("win32", ("pip install --force-reinstall sounddevice",)),
    ],
)
def test_the_portaudio_step_is_for_this_os(
    monkeypatch: pytest.MonkeyPatch, platform: str, steps: tuple[str, ...]
) -> None:
    monkeypatch.setattr("sys.platform", platform)
    step = devices.portaudio_install_step()
    assert all(expected in step for expected in steps), step
    assert ("apt-get" in step) == (platform == "linux")


def test_file_input_never_loads_portaudio() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, asyncio\n"
        "from voicepilot.conversation.launch import open_input\n"
        "from voicepilot.sidecar.server import VoicePilotServer\n"
        "from voicepilot.contract.models import StartSessionParams\n"
        f"p = StartSessionParams(profile='local', input={{'kind': 'file', 'path': {str(SAMPLE)!r}}})\n"
        "asyncio.run(open_input(p))\n"
        "print('sounddevice' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "False"


def test_lists_devices_of_each_kind_with_the_default_first(fake_sd: FakeSounddevice) -> None:
    fake_sd.devices = [device("USB Headset", 1, 2, 44_100.0), device("Built-in", 2, 2)]
    fake_sd.default_device = [1, 0]
    inputs = list_devices("input")
    assert [(d.name, d.is_default, d.sample_rate) for d in inputs] == [
        ("Built-in", True, 48_000),
        ("USB Headset", False, 44_100),
    ]
    outputs = list_devices("output")
    assert [(d.name, d.is_default) for d in outputs] == [("USB Headset", True), ("Built-in", False)]


def test_finds_by_exact_name_then_unique_substring_else_explains(fake_sd: FakeSounddevice) -> None:
    fake_sd.devices = [device("USB Headset Mic", 1, 0), device("USB Webcam Mic", 1, 0), device("Built-in", 1, 2)]
    fake_sd.default_device = [2, 2]
    assert find_device("input", None).name == "Built-in"
    assert find_device("input", "default").name == "Built-in"
    assert find_device("input", "USB Webcam Mic").name == "USB Webcam Mic"
    assert find_device("input", "headset").name == "USB Headset Mic"
    with pytest.raises(VoicePilotError) as ambiguous:
        find_device("input", "USB")
    assert ambiguous.value.code == "ambiguous_device"
    with pytest.raises(VoicePilotError) as missing:
        find_device("input", "Studio")
    assert missing.value.code == "no_such_device"
    assert "Available: Built-in, USB Headset Mic, USB Webcam Mic" in missing.value.message


def test_no_device_at_all(fake_sd: FakeSounddevice) -> None:
    fake_sd.devices = []
    fake_sd.default_device = [-1, -1]
    with pytest.raises(VoicePilotError) as raised:
        find_device("input", None)
    assert raised.value.code == "no_device"
    assert "No microphone" in raised.value.message


PACTL = {
    ("-f", "json", "list", "sources"): [
        {"name": "speaker.monitor", "description": "Monitor", "monitor_source": "speaker",
         "sample_specification": "s16le 2ch 48000Hz"},
        {"name": "alsa_input.usb-mic", "description": "USB Mic", "monitor_source": "",
         "sample_specification": "s16le 1ch 44100Hz"},
        {"name": "vmic", "description": "Virtual", "monitor_source": "",
         "sample_specification": "float32le 1ch 48000Hz"},
    ],
    ("-f", "json", "list", "sinks"): [
        {"name": "speaker", "description": "Null Output", "sample_specification": "s16le 2ch 48000Hz"}
    ],
    ("-f", "json", "info"): {"default_source_name": "vmic", "default_sink_name": "speaker"},
}  # fmt: skip


def test_sound_server_devices_are_listed_by_their_server_name(
    fake_sd: FakeSounddevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_sd.devices = [device("pulse", 32, 32, 44_100.0), device("default", 32, 32, 44_100.0)]
    monkeypatch.setattr(devices, "_pactl", lambda *args: json.dumps(PACTL[args]))
    inputs = {d.name: d for d in list_devices("input")}
    assert set(inputs) == {"pulse", "default", "alsa_input.usb-mic", "vmic"}  # monitors are not microphones
    usb = inputs["alsa_input.usb-mic"]
    assert (usb.host_api, usb.channels, usb.sample_rate, usb.pulse_name, usb.portaudio_index) == (
        "PulseAudio",
        1,
        44_100,
        "alsa_input.usb-mic",
        0,
    )
    assert "sound server default" in inputs["vmic"].description
    # ALSA's pulse PCMs say 44.1 kHz; what they really run at is the server's rate.
    assert inputs["default"].sample_rate == inputs["pulse"].sample_rate == 48_000
    assert [d.name for d in list_devices("output") if d.pulse_name] == ["speaker"]


def test_a_server_device_is_opened_through_the_pulse_pcm_with_its_name_in_the_environment(
    fake_sd: FakeSounddevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_sd.devices = [device("pulse", 32, 32)]
    monkeypatch.setattr(devices, "_pactl", lambda *args: json.dumps(PACTL[args]))
    monkeypatch.delenv("PULSE_SOURCE", raising=False)
    vmic = find_device("input", "vmic")
    with opening(vmic):
        assert os.environ["PULSE_SOURCE"] == "vmic"
    assert "PULSE_SOURCE" not in os.environ


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("Error querying device -1",), "no_device"),
        (("Device unavailable", -9985), "device_busy"),
        (("Unanticipated host error", -9999, ("ALSA", -errno.EBUSY, "Device or resource busy")), "device_busy"),
        (("Unanticipated host error", -9999, ("ALSA", -errno.EACCES, "Permission denied")), "permission_denied"),
        (("Unanticipated host error", -9999, ("ALSA", -errno.ENODEV, "No such device")), "device_gone"),
        (("Something odd", -9986), "device_failed"),
    ],
)
def test_portaudio_errors_are_explained(args: tuple[Any, ...], code: str) -> None:
    mic = devices.Device("USB Mic", "input", "USB Mic", "ALSA", 1, 48_000, False, 3)
    error = classify(PortAudioError(*args), "input", None if code == "no_device" else mic)
    assert error.kind is ErrorKind.DEVICE
    assert error.code == code
    assert error.next_step


SAMPLE = devices.__file__.rsplit("/audio/", 1)[0] + "/samples/go_to_line_42.wav"
