"""The live audio of one conversation: microphone and speaker, and the gate between them.

:class:`VoiceAudio` owns the devices: it opens the microphone's gate (push-to-talk held, mute off,
the assistant not audible unless barge-in is on), plays the reply, runs the echo canceller when
barge-in keeps the microphone open over a speaker, keeps the devices working (a device that fails
or disappears is replaced by the default, or paused and retried) and reports levels and each
device's state. It knows nothing of the service: the conversation layer
(:mod:`voicepilot.conversation.turns`) tells it when a reply plays and when a turn starts or ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import av

from voicepilot.audio.blocking import run_blocking
from voicepilot.audio.capture import Microphone
from voicepilot.audio.devices import Device, Kind, find_device, list_devices
from voicepilot.audio.echo import EchoCanceller, EchoUnavailable
from voicepilot.audio.frames import FRAME_MS, Pcm
from voicepilot.audio.health import HealthJudge, reaches
from voicepilot.audio.playback import Speaker
from voicepilot.audio.tracks import FrameClock, FrameSource, device_clock
from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

ECHO_TAIL_MS = 150
LEVEL_INTERVAL_S = 0.1  # audioLevel at most 10 Hz, and the devices checked as often
RETRY_EVERY_S = 2.0  # a paused device, or a preferred device that is gone, is looked for again
MAX_RETRY_S = 30.0
REFAIL_S = 5.0  # a replacement that fails this soon after the last failure: pause instead
KINDS: tuple[Kind, ...] = ("input", "output")
LIST_TIMEOUT_S = 5.0
# active: the chosen device (the system default when none is chosen) works. fallback: the chosen one
# failed or went away, and another (the default) is used. paused: none works; VoicePilot keeps trying.
DeviceState = Literal["active", "fallback", "paused"]


@dataclass(frozen=True)
class AudioOptions:
    push_to_talk: bool = False
    barge_in: bool = False
    echo_cancellation: bool = True
    echo_tail_ms: int = ECHO_TAIL_MS


class MicrophoneInput:
    """The session's input: whichever microphone is in use now (none while it is paused).

    The session is built with this once; :class:`VoiceAudio` switches the device behind it.
    """

    def __init__(self, mic: FrameSource | None) -> None:
        self.current = mic

    def use(self, mic: FrameSource | None) -> None:
        self.current = mic

    def next_frame(self) -> Pcm | None:
        current = self.current
        return current.next_frame() if current is not None else None

    def clock(self) -> FrameClock | None:
        return device_clock(self.current)


@dataclass(frozen=True)
class LevelReport:
    input_dbfs: float
    output_dbfs: float
    mic_open: bool
    muted: bool
    assistant_speaking: bool
    input_device: str | None
    output_device: str | None


@dataclass(frozen=True)
class DeviceStateReport:
    """The microphone or the speaker changed state (or device): what is used now, and why."""

    kind: Kind
    state: DeviceState
    previous: DeviceState
    device: str | None  # the device in use now; None while paused
    message: str
    error_kind: ErrorKind | None  # DEVICE when a device failed or went away (else: a recovery)


class AudioReporter(Protocol):
    def on_level(self, report: LevelReport) -> None: ...

    def on_device_state(self, report: DeviceStateReport) -> None: ...


async def open_microphone(name: str | None) -> Microphone:
    """The named (or default) microphone, opened and capturing. Raises a DEVICE error."""
    device = await run_blocking(lambda: find_device("input", name), LIST_TIMEOUT_S)
    mic = Microphone(device)
    await mic.open()
    return mic


async def open_speaker(name: str | None) -> Speaker:
    device = await run_blocking(lambda: find_device("output", name), LIST_TIMEOUT_S)
    speaker = Speaker(device)
    await speaker.open()
    return speaker


async def available_devices(kind: Kind) -> list[Device]:
    return await run_blocking(lambda: list_devices(kind), LIST_TIMEOUT_S)


class VoiceAudio:
    def __init__(
        self,
        set_source: Callable[[FrameSource | None], None] | None,
        reporter: AudioReporter,
        options: AudioOptions,
        mic: Microphone | None,
        speaker: Speaker | None,
        preferred_input: str | None = None,
        preferred_output: str | None = None,
    ) -> None:
        self.options = options
        self.mic: Microphone | None = None
        self.speaker = speaker
        self.preferred = {"input": preferred_input, "output": preferred_output}
        self.muted = False
        self.pressed = False
        # After a release: frames captured before it, still to send, and whether they all went.
        self._release_frames = 0
        self._release_drained = asyncio.Event()
        self.barge_ins = 0
        self._set_source = set_source
        self._reporter = reporter
        self._playing_replies: set[str | None] = set()
        self._press_frames = 0
        self._paused: dict[Kind, bool] = {"input": False, "output": False}
        self._state: dict[Kind, DeviceState] = {"input": "active", "output": "active"}
        self._failed_at: dict[Kind, float] = {"input": -REFAIL_S, "output": -REFAIL_S}
        self._retry_at: dict[Kind, float] = {"input": 0.0, "output": 0.0}
        self._retry_delay: dict[Kind, float] = {"input": RETRY_EVERY_S, "output": RETRY_EVERY_S}
        self._next_listing = 0.0
        self._missing: dict[Kind, bool] = {"input": False, "output": False}
        self._health: dict[Kind, HealthJudge] = {"input": HealthJudge(), "output": HealthJudge()}
        self._last_report: LevelReport | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.echo: EchoCanceller | None = None
        self.echo_unavailable: str | None = None
        # The session already sends this microphone; set_source (None: the input is a file) is for
        # replacing it.
        self.mic = mic
        if mic is not None:
            mic.gate = self._admit_frame
        self._hook_echo_canceller()

    # ------------------------------------------------------------------ wiring

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    def _use_mic(self, mic: Microphone | None) -> None:
        self.mic = mic
        if mic is not None:
            mic.gate = self._admit_frame
        self._hook_echo_canceller()
        if self._set_source is not None:
            self._set_source(mic)

    @property
    def wants_echo_cancellation(self) -> bool:
        """Barge-in keeps the microphone open over the assistant's voice, which a speaker plays."""
        options = self.options
        return options.barge_in and options.echo_cancellation and self.mic is not None and self.speaker is not None

    def _hook_echo_canceller(self) -> None:
        """(Re)connect the echo canceller to the microphone and speaker in use (after any change)."""
        if self.wants_echo_cancellation and self.echo is None and self.echo_unavailable is None:
            try:
                self.echo = EchoCanceller()
            except EchoUnavailable as exc:
                self.echo_unavailable = str(exc)
                log.warning("echo cancellation is unavailable (%s): the assistant may hear itself", exc)
        elif self.echo is not None:
            self.echo.reset()  # another device: another room
        echo = self.echo if self.wants_echo_cancellation else None
        if self.mic is not None:
            self.mic.process = echo.process if echo is not None else None
        if self.speaker is not None:
            self.speaker.on_played = echo.played if echo is not None else None

    def on_remote_frame(self, frame: av.AudioFrame) -> None:
        if self.speaker is not None:
            self.speaker.write_frame(frame)

    def reply_playing(self, reply_id: str | None) -> None:
        """A reply started playing: its audio is played (even right after the last was cut)."""
        self._playing_replies.add(reply_id)
        self.reply_coming()

    def reply_coming(self) -> None:
        """A new reply: what arrives now is its audio, not the tail of an interrupted one."""
        if self.speaker is not None:
            self.speaker.resume()

    def reply_played(self, reply_id: str | None) -> None:
        self._playing_replies.discard(reply_id)

    def replies_dropped(self) -> None:
        """Nothing more of the replies under way will come: what is queued here goes too."""
        self._playing_replies.clear()
        self._flush_playback()

    def cut_playback(self, barge_in: bool) -> None:
        """Stop what is playing at once; ``barge_in``: because the user spoke over the assistant."""
        if barge_in:
            self.barge_ins += 1
        self._flush_playback()

    # ------------------------------------------------------------------ gating

    def assistant_speaking(self, now: float | None = None) -> bool:
        if self._playing_replies:
            return True
        if self.speaker is None:
            return False
        now = time.monotonic() if now is None else now
        return self.speaker.audible(now - self.options.echo_tail_ms / 1000)

    def gate_open(self) -> bool:
        if self.muted:
            return False
        if self.options.push_to_talk:
            return self.pressed
        return self.options.barge_in or not self.assistant_speaking()

    def _admit_frame(self) -> bool:
        """The microphone's gate, asked once for each frame it is about to send."""
        if self.gate_open():
            return True
        if self._release_frames > 0 and not self.muted:
            # Captured before the push-to-talk button was released: part of the turn.
            self._release_frames -= 1
            if self._release_frames == 0:
                self._release_drained.set()
            return True
        return False

    @property
    def uses_microphone(self) -> bool:
        """A device microphone feeds the session (possibly paused), rather than a file."""
        return self.mic is not None or self._paused["input"]

    def set_muted(self, muted: bool) -> None:
        self.muted = muted

    # ------------------------------------------------------------------ push-to-talk gate

    def open_turn(self) -> None:
        """Push-to-talk pressed: the gate opens for what is captured from now on."""
        self._release_frames = 0
        if self.mic is not None:
            self.mic.discard()
            self._press_frames = self.mic.frames_sent
        self.pressed = True

    def close_turn(self) -> tuple[int | None, int]:
        """Push-to-talk released: the turn's audio in ms (None without a microphone), and the frames
        captured before the release that are still to send."""
        self.pressed = False
        if self.mic is None:
            return None, 0
        in_flight = self.mic.frames_in_flight()
        return (self.mic.frames_sent - self._press_frames + in_flight) * FRAME_MS, in_flight

    def send_in_flight(self, frames: int) -> None:
        """Let the ``frames`` captured before the release through the closed gate."""
        self._release_frames = frames
        self._release_drained = asyncio.Event()
        if frames == 0:
            self._release_drained.set()

    async def wait_in_flight(self, timeout_s: float) -> None:
        """Until the frames let through have gone (at most ``timeout_s``: a microphone may stall)."""
        try:
            await asyncio.wait_for(self._release_drained.wait(), timeout_s)
        except TIMEOUT_ERRORS:
            self._release_frames = 0

    def _flush_playback(self) -> None:
        if self.speaker is not None:
            self.speaker.flush()

    # ------------------------------------------------------------------ devices

    async def _supervise(self) -> None:
        while True:
            # Levels and the devices' health at each tick, on the grid the session's watchdog shares.
            await asyncio.sleep(LEVEL_INTERVAL_S)
            self._report_levels()
            await self._check_devices(time.monotonic())

    async def _check_devices(self, now: float) -> None:
        for kind in KINDS:
            stream = self._stream(kind)
            problem = self._health[kind].failure(stream, now) if stream is not None else None
            if stream is not None and problem is not None:
                await self._device_failed(kind, f"The {_what(kind)} '{stream.device.name}' failed: {problem}.")
            elif self._paused[kind] and now >= self._retry_at[kind]:
                await self._resume(kind)
        if now < self._next_listing or not any(self.preferred.values()):
            return
        # A named device is in use or wanted: see whether it went away, or came back.
        self._next_listing = now + RETRY_EVERY_S
        for kind in KINDS:
            try:
                names = {d.name for d in await available_devices(kind)}
            except (VoicePilotError, TimeoutError, asyncio.TimeoutError) as exc:
                log.debug("device listing failed: %s", exc)
                return
            stream, preferred = self._stream(kind), self.preferred[kind]
            if preferred and preferred not in names:
                self._missing[kind] = True
            if stream is not None and stream.device.pulse_name is not None and stream.device.name not in names:
                await self._device_failed(kind, f"The {_what(kind)} '{stream.device.name}' disappeared.")
            elif preferred in names and self._missing[kind] and stream is not None:
                # Only a device that went away is followed back; one that failed is not retried.
                self._missing[kind] = False
                await self._switch(kind, preferred, f"The {_what(kind)} '{preferred}' is back: using it again.")

    def _stream(self, kind: Kind) -> Microphone | Speaker | None:
        return self.mic if kind == "input" else self.speaker

    async def _device_failed(self, kind: Kind, reason: str) -> None:
        """Replace a failed device by the default one; pause when that keeps failing too."""
        old = self._stream(kind)
        self._install(kind, None)
        if old is not None:
            await old.close()
        now = time.monotonic()
        again = now - self._failed_at[kind] < REFAIL_S
        self._failed_at[kind] = now
        if not again:
            # The device that failed is not tried again at once: the default is.
            failed = old.device.name if old is not None else None
            names = [n for n in dict.fromkeys([self.preferred[kind], None]) if n is None or n != failed]
            if await self._open_first(kind, names, reason, old.device if old is not None else None):
                return
        self._pause(kind, reason)

    async def _open_first(
        self, kind: Kind, names: list[str | None], reason: str | None, replacing: Device | None = None
    ) -> bool:
        for name in names:
            try:
                new = await (open_microphone(name) if kind == "input" else open_speaker(name))
            except (VoicePilotError, TimeoutError, asyncio.TimeoutError) as exc:
                log.info("cannot open the %s %s: %s", kind, name or "default", exc)
                continue
            if replacing is not None and await self._same_device(replacing, new.device):
                # The default is the device that failed (reopened): no switch, nothing to tell.
                log.info("%s %s reopened as %s (the same device)", kind, replacing.name, new.device.name)
                self._install(kind, new)
                return True
            self._install(kind, new)
            self._paused[kind] = False
            self._retry_delay[kind] = RETRY_EVERY_S
            prefix = f"{reason} " if reason else ""
            message = f"{prefix}Using the {_what(kind)} '{new.device.name}' now."
            self._report(kind, self._state_of(kind, name, new.device), message, reason is not None)
            return True
        return False

    def _pause(self, kind: Kind, reason: str) -> None:
        if not self._paused[kind]:
            self._paused[kind] = True
            state = "the microphone is paused" if kind == "input" else "playback is paused"
            self._report(
                kind, "paused", f"{reason} No other {_what(kind)} works: {state}; VoicePilot keeps trying.", True
            )
        self._retry_at[kind] = time.monotonic() + self._retry_delay[kind]
        self._retry_delay[kind] = min(self._retry_delay[kind] * 2, MAX_RETRY_S)

    async def _resume(self, kind: Kind) -> None:
        if not await self._open_first(kind, list(dict.fromkeys([self.preferred[kind], None])), None):
            self._retry_at[kind] = time.monotonic() + self._retry_delay[kind]
            self._retry_delay[kind] = min(self._retry_delay[kind] * 2, MAX_RETRY_S)

    async def _switch(self, kind: Kind, name: str, message: str) -> None:
        try:
            new = await (open_microphone(name) if kind == "input" else open_speaker(name))
        except (VoicePilotError, TimeoutError, asyncio.TimeoutError) as exc:
            log.info("cannot switch back to %s: %s", name, exc)
            return
        old = self._stream(kind)
        self._install(kind, new)
        if old is not None:
            same = await self._same_device(old.device, new.device)
            await old.close()
            if same:
                return
        self._report(kind, "active", message, False)

    async def _same_device(self, a: Device, b: Device) -> bool:
        """Whether two devices reach the same sound server device ('default' is the server default)."""
        if a.name == b.name:
            return True
        try:
            listing = await available_devices(a.kind)
        except (VoicePilotError, TimeoutError, asyncio.TimeoutError):
            return False
        return reaches(a, listing) == reaches(b, listing)

    def _state_of(self, kind: Kind, opened_as: str | None, device: Device) -> DeviceState:
        """``active`` when the device opened by the name ``opened_as`` is the chosen one, else ``fallback``."""
        preferred = self.preferred[kind]
        return "active" if opened_as == preferred or device.name == preferred else "fallback"

    def _report(self, kind: Kind, state: DeviceState, message: str, failed: bool) -> None:
        """Tell the reporter what the ``kind`` device is now; ``failed``: because one failed or went away."""
        previous, self._state[kind] = self._state[kind], state
        stream = self._stream(kind)
        device = stream.device.name if stream is not None else None
        error_kind = ErrorKind.DEVICE if failed else None
        self._reporter.on_device_state(DeviceStateReport(kind, state, previous, device, message, error_kind))

    def device_state(self, kind: Kind) -> DeviceState:
        return self._state[kind]

    def _install(self, kind: Kind, stream: Microphone | Speaker | None) -> None:
        if kind == "input":
            assert stream is None or isinstance(stream, Microphone)
            self._use_mic(stream)
        else:
            assert stream is None or isinstance(stream, Speaker)
            self.speaker = stream
            self._hook_echo_canceller()

    async def select(self, kind: Kind, name: str | None) -> Device | None:
        """Use another device now (None: the default); remembered for recovery. Raises a DEVICE error."""
        new = await (open_microphone(name) if kind == "input" else open_speaker(name))
        old = self._stream(kind)
        self.preferred[kind] = name
        self._missing[kind] = False
        self._install(kind, new)
        self._paused[kind] = False
        if old is not None:
            await old.close()
        if self._state[kind] != "active":
            # The user's choice ends a fallback or a pause.
            self._report(kind, "active", f"Using the {_what(kind)} '{new.device.name}' now, as chosen.", False)
        return new.device

    # ------------------------------------------------------------------ levels and stats

    def _report_levels(self) -> None:
        report = LevelReport(
            input_dbfs=self.mic.level.take() if self.mic is not None else -120.0,
            output_dbfs=self.speaker.level.take() if self.speaker is not None else -120.0,
            mic_open=self.mic is not None and self.gate_open(),
            muted=self.muted,
            assistant_speaking=self.assistant_speaking(),
            input_device=self.mic.device.name if self.mic is not None else None,
            output_device=self.speaker.device.name if self.speaker is not None else None,
        )
        if report != self._last_report:
            self._last_report = report
            self._reporter.on_level(report)

    def stats(self) -> dict[str, float]:
        stats: dict[str, float] = {"bargeIns": float(self.barge_ins)}
        # Stalls of callbacks seen (most recover by themselves; only a confirmed one is a failure).
        stats["micStallsSuspected"] = float(self._health["input"].suspicions)
        stats["speakerStallsSuspected"] = float(self._health["output"].suspicions)
        if self.mic is not None:
            stats.update(self.mic.stats())
        if self.speaker is not None:
            stats.update(self.speaker.stats())
        stats["echoCancellation"] = 1.0 if self.echo is not None and self.wants_echo_cancellation else 0.0
        if self.echo is not None:
            stats.update(self.echo.stats())
        return stats

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._set_source is not None and (self.mic is not None or self._paused["input"]):
            self._set_source(None)
        for stream in (self.mic, self.speaker):
            if stream is not None:
                await stream.close()


def _what(kind: Kind) -> str:
    return "microphone" if kind == "input" else "speaker"
