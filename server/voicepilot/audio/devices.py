"""Audio devices: loading PortAudio lazily, listing and choosing devices, explaining failures.

``sounddevice`` (and PortAudio) is imported only when a device is used, so file input needs no
PortAudio and a missing library becomes a DEVICE error naming the package to install. Devices come
from PortAudio's own list (by name) and, on Linux with PulseAudio or PipeWire, from the server's
sources and sinks (``pactl``), opened through ALSA's ``pulse`` PCM, which follows
``PULSE_SOURCE``/``PULSE_SINK``. Devices are matched by name, never by index (indices change when a
device comes or goes).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Literal

from voicepilot.errors import ErrorKind, VoicePilotError

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]
PULSE_HOST_API = "PulseAudio"
SERVER_DEFAULT = " (sound server default)"
DEFAULT_DEVICE = "default"
_PACTL_TIMEOUT_S = 2.0
PORTAUDIO_PACKAGE = "libportaudio2"

_sd: ModuleType | None = None
_env_lock = threading.Lock()


def device_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    error = VoicePilotError(ErrorKind.DEVICE, message, next_step)
    error.code = code
    return error


def portaudio_install_step(platform: str | None = None) -> str:
    """How to get PortAudio on ``platform`` (``sys.platform`` by default)."""
    platform = platform or sys.platform
    if platform in ("darwin", "win32"):
        # sounddevice's wheels for macOS and Windows carry PortAudio: a broken install lost it.
        how = (
            "sounddevice's own copy of it is missing: reinstall it into the Python that runs VoicePilot "
            "(pip install --force-reinstall sounddevice)"
        )
    else:
        debian = f"sudo apt-get install {PORTAUDIO_PACKAGE}"
        how = f"Install it (Debian/Ubuntu: {debian}; Fedora: sudo dnf install portaudio)"
    return f"{how}, then restart VoicePilot. File input works without it."


def portaudio() -> ModuleType:
    """The ``sounddevice`` module, imported on first use. Raises a DEVICE error without PortAudio."""
    global _sd
    if _sd is None:
        try:
            import sounddevice
        except OSError as exc:  # sounddevice raises OSError when libportaudio is not found
            raise device_error(
                "The PortAudio library is not installed, so VoicePilot cannot use the microphone or speakers.",
                portaudio_install_step(),
                code="portaudio_missing",
            ) from exc
        except ImportError as exc:
            raise device_error(
                "The Python package sounddevice is not installed.",
                "Install it into the Python that runs VoicePilot: pip install sounddevice.",
                code="sounddevice_missing",
            ) from exc
        _sd = sounddevice
    return _sd


@dataclass(frozen=True)
class Device:
    """One input or output device as the user sees it."""

    name: str
    kind: Kind
    description: str
    host_api: str
    channels: int
    sample_rate: int
    is_default: bool
    # How to open it: the PortAudio device (index) and, for a sound server device, its name.
    portaudio_index: int
    pulse_name: str | None = None


# ---------------------------------------------------------------------------- listing


def list_devices(kind: Kind) -> list[Device]:
    """Every usable device of one kind, the system default first. Blocking: call it in a thread."""
    sd = portaudio()
    try:
        raw = list(sd.query_devices())
        apis = list(sd.query_hostapis())
        default_index = int(sd.default.device[0 if kind == "input" else 1])
    except sd.PortAudioError as exc:
        raise classify(exc, kind, None) from exc
    channels_key = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = [
        Device(
            name=str(info["name"]),
            kind=kind,
            description=str(info["name"]),
            host_api=str(apis[int(info["hostapi"])]["name"]) if int(info["hostapi"]) < len(apis) else "",
            channels=int(info[channels_key]),
            sample_rate=int(info["default_samplerate"]),
            is_default=int(info["index"]) == default_index,
            portaudio_index=int(info["index"]),
        )
        for info in raw
        if int(info[channels_key]) > 0
    ]
    pulse_pcm = next((d for d in devices if d.name == "pulse"), None)
    if pulse_pcm is not None:
        server_devices = _pulse_devices(kind, pulse_pcm.portaudio_index)
        server_default = next((d for d in server_devices if d.description.endswith(SERVER_DEFAULT)), None)
        if server_default is not None:
            # ALSA's pulse and default PCMs report 44.1 kHz whatever the server runs at; their native
            # rate is the server device's (usually 48 kHz: then nobody resamples).
            devices = [
                replace(d, sample_rate=server_default.sample_rate) if d.name in ("pulse", DEFAULT_DEVICE) else d
                for d in devices
            ]
        devices.extend(server_devices)
    devices.sort(key=lambda d: not d.is_default)
    return devices


def _pactl(*args: str) -> str | None:
    if shutil.which("pactl") is None:
        return None
    try:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=_PACTL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _pulse_devices(kind: Kind, pcm_index: int) -> list[Device]:
    """The sound server's sources (not monitors of sinks) or sinks, when ``pactl -f json`` answers."""
    listing = _pactl("-f", "json", "list", "sources" if kind == "input" else "sinks")
    info = _pactl("-f", "json", "info")
    if listing is None or info is None:
        return []
    try:
        entries = json.loads(listing)
        default = json.loads(info).get("default_source_name" if kind == "input" else "default_sink_name")
    except ValueError:
        return []
    devices = []
    for entry in entries:
        name = str(entry.get("name", ""))
        # For a source, pactl's JSON names the sink it monitors in "monitor_source" (sic).
        if not name or (kind == "input" and (entry.get("monitor_source") or name.endswith(".monitor"))):
            continue
        spec = str(entry.get("sample_specification", "")).split()
        rate = int(spec[2].removesuffix("Hz")) if len(spec) == 3 and spec[2].endswith("Hz") else 48_000
        channels = int(spec[1].removesuffix("ch")) if len(spec) == 3 and spec[1].endswith("ch") else 2
        devices.append(
            Device(
                name=name,
                kind=kind,
                description=str(entry.get("description") or name),
                host_api=PULSE_HOST_API,
                channels=channels,
                sample_rate=rate,
                is_default=False,
                portaudio_index=pcm_index,
                pulse_name=name,
            )
        )
    # PortAudio's "default" stays *the* default (it follows the server's); the server's choice is named.
    return [replace(d, description=d.description + SERVER_DEFAULT) if d.name == default else d for d in devices]


def find_device(kind: Kind, name: str | None) -> Device:
    """The device called ``name`` (exact, then a unique case-insensitive substring), or the default."""
    devices = list_devices(kind)
    what = "microphone" if kind == "input" else "speaker"
    if not devices:
        raise no_device_error(kind)
    if not name or name == DEFAULT_DEVICE:
        return next((d for d in devices if d.is_default), devices[0])
    exact = [d for d in devices if d.name == name]
    if exact:
        return exact[0]
    partial = [d for d in devices if name.lower() in d.name.lower() or name.lower() in d.description.lower()]
    if len(partial) == 1:
        return partial[0]
    names = ", ".join(sorted({d.name for d in devices}))
    if partial:
        raise device_error(
            f"'{name}' matches more than one {what}: {', '.join(d.name for d in partial)}.",
            "Choose one by its full name (VoicePilot: Select Devices, or voicepilot devices).",
            code="ambiguous_device",
        )
    raise device_error(
        f"There is no {what} called '{name}'. Available: {names}.",
        "Choose another device (VoicePilot: Select Devices, or voicepilot devices), or plug it in.",
        code="no_such_device",
    )


def no_device_error(kind: Kind) -> VoicePilotError:
    if kind == "input":
        return device_error(
            "No microphone was found.",
            "Connect a microphone (or check that the system sees it), or use a WAV file as input.",
            code="no_device",
        )
    return device_error(
        "No speaker or headphones were found.",
        "Connect an output device, or start the session without audio output.",
        code="no_device",
    )


@contextlib.contextmanager
def opening(device: Device) -> Iterator[None]:
    """While a stream on ``device`` is being opened: point ALSA's pulse PCM at the named server device.

    The pulse PCM reads ``PULSE_SOURCE``/``PULSE_SINK`` when the stream connects, so the variable
    only needs to be set during the open (under a lock: the environment is process-wide).
    """
    if device.pulse_name is None:
        yield
        return
    variable = "PULSE_SOURCE" if device.kind == "input" else "PULSE_SINK"
    with _env_lock:
        previous = os.environ.get(variable)
        os.environ[variable] = device.pulse_name
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = previous


# ---------------------------------------------------------------------------- errors

# PortAudio error codes (portaudio.h).
_PA_INVALID_DEVICE = -9996
_PA_INVALID_SAMPLE_RATE = -9997
_PA_DEVICE_UNAVAILABLE = -9985
_PA_HOST_ERROR = -9999


def classify(exc: Exception, kind: Kind, device: Device | None) -> VoicePilotError:
    """A PortAudio failure as a DEVICE error that says what happened and what to do."""
    what = "microphone" if kind == "input" else "speaker"
    label = f"the {what} '{device.name}'" if device else f"the default {what}"
    args: tuple[Any, ...] = exc.args
    text = str(args[0]) if args else str(exc)
    code = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    host_code = args[2][1] if len(args) > 2 and isinstance(args[2], tuple) and len(args[2]) > 1 else None
    lowered = text.lower()
    if "querying device -1" in lowered or (code == _PA_INVALID_DEVICE and device is None):
        return no_device_error(kind)
    if host_code in (-errno.EACCES, -errno.EPERM) or "permission" in lowered or "access denied" in lowered:
        return device_error(
            f"Permission to use {label} was denied.",
            "Allow microphone access for VS Code (macOS: System Settings > Privacy & Security > Microphone; "
            "Linux: add your user to the 'audio' group or check the sound server), then try again.",
            code="permission_denied",
        )
    if host_code == -errno.EBUSY or code == _PA_DEVICE_UNAVAILABLE or "busy" in lowered or "unavailable" in lowered:
        return device_error(
            f"{label[0].upper()}{label[1:]} is busy: another application is using it.",
            "Close the other application that uses it, or choose another device, then try again.",
            code="device_busy",
        )
    if host_code in (-errno.ENODEV, -errno.ENOENT) or code == _PA_INVALID_DEVICE:
        return device_error(
            f"{label[0].upper()}{label[1:]} is no longer available.",
            "Plug it back in or choose another device.",
            code="device_gone",
        )
    return device_error(
        f"Could not use {label}: {text}.",
        "Choose another device, or check the system's sound settings.",
        code="device_failed",
    )


def is_sample_rate_error(exc: Exception) -> bool:
    args = exc.args
    return (len(args) > 1 and args[1] == _PA_INVALID_SAMPLE_RATE) or "sample rate" in str(exc).lower()
