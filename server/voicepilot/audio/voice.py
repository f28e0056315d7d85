"""The live audio of one conversation: microphone and speaker, and the rules between them.

:class:`VoiceAudio` sits between the devices and the session. It decides when the microphone's
audio is sent (push-to-talk, mute, the echo gate), plays the remote track, stops the assistant when
the user barges in, keeps the devices working (a device that fails or disappears is replaced by
the default one, or the microphone pauses and is retried), and reports levels and each device's
state (:class:`DeviceStateReport`: active, fallback or paused). It drives the session only through
:class:`SessionControls`, so it knows nothing of connections.

Push-to-talk (``turn_detection: null``; realtime-protocol notes §9):

- pressed: if the assistant is speaking or answering, barge in (``response.cancel`` if a response
  is active, ``output_audio_buffer.clear``, local playback flushed at once); then
  ``input_audio_buffer.clear`` and the microphone opens.
- released: the microphone closes for what is said from then on; what was captured before the
  release (queued, or still in the device's input latency) is still sent, so the last syllable is
  not cut off. A press that sent less than ``min_turn_ms`` of audio is dropped
  (``input_audio_buffer.clear``): the service would refuse to commit under 100 ms, and an
  accidental tap should not start a turn. Otherwise, once those frames are sent and
  ``release_tail_ms`` later (they are still on their way through the network and the service's
  buffers), ``input_audio_buffer.commit`` and ``response.create``.

Echo gate: without a headset the assistant's voice reaches the microphone. Unless barge-in is
enabled, the microphone sends silence while the assistant speaks (the service says its output
buffer is playing, or the speaker played something audible in the last ``echo_tail_ms``).

Echo cancellation: with barge-in the microphone stays open while the assistant speaks, so its voice
would come back and the service would interrupt it. Then, when a device microphone and a device
speaker are in use and ``echo_cancellation`` is on, an :class:`~voicepilot.audio.echo.EchoCanceller`
takes what the speaker played out of each captured frame, and its residual echo suppressor silences
the frames that still hold only the assistant's voice (the user speaking over it passes). Where pyaec
cannot be loaded it says so once in the log and the stats (``echoCancellation``: 0); the rest works
as without it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import av

from voicepilot.audio.blocking import run_blocking
from voicepilot.audio.capture import Microphone
from voicepilot.audio.devices import Device, Kind, find_device, list_devices
from voicepilot.audio.echo import EchoCanceller, EchoUnavailable
from voicepilot.audio.frames import FRAME_MS
from voicepilot.audio.health import HealthJudge, reaches
from voicepilot.audio.playback import Speaker
from voicepilot.audio.tracks import FrameSource
from voicepilot.contract import DeviceStateName
from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime import events as ev
from voicepilot.tasks import TIMEOUT_ERRORS, sleep_on_grid

log = logging.getLogger(__name__)

MIN_TURN_MS = 120  # the service's minimum commit is 100 ms; a little margin for a lost frame
RELEASE_TAIL_MS = 120
RELEASE_DRAIN_MAX_S = 1.0  # a stalled microphone does not hold the commit back longer than this
ECHO_TAIL_MS = 150
LEVEL_INTERVAL_S = 0.1  # audioLevel at most 10 Hz, and the devices checked as often
RETRY_EVERY_S = 2.0  # a paused device, or a preferred device that is gone, is looked for again
MAX_RETRY_S = 30.0
REFAIL_S = 5.0  # a replacement that fails this soon after the last failure: pause instead
KINDS: tuple[Kind, ...] = ("input", "output")
LIST_TIMEOUT_S = 5.0


class SessionControls(Protocol):
    """What the audio layer asks of the session."""

    def clear_input(self) -> None: ...

    def commit_and_respond(self) -> None: ...

    def interrupt(self) -> bool: ...


@dataclass(frozen=True)
class AudioOptions:
    push_to_talk: bool = False
    barge_in: bool = False
    echo_cancellation: bool = True
    min_turn_ms: int = MIN_TURN_MS
    release_tail_ms: int = RELEASE_TAIL_MS
    echo_tail_ms: int = ECHO_TAIL_MS


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
    state: DeviceStateName
    previous: DeviceStateName
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
        session: SessionControls,
        set_source: Callable[[FrameSource | None], None],
        reporter: AudioReporter,
        options: AudioOptions,
        mic: Microphone | None,
        speaker: Speaker | None,
        preferred_input: str | None = None,
        preferred_output: str | None = None,
    ) -> None:
        self.session = session
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
        self.short_presses = 0
        self._set_source = set_source
        self._reporter = reporter
        self._playing_responses: set[str | None] = set()
        self._press_frames = 0
        self._release: asyncio.Task[None] | None = None
        self._paused: dict[Kind, bool] = {"input": False, "output": False}
        self._state: dict[Kind, DeviceStateName] = {"input": "active", "output": "active"}
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
        # The session already sends this microphone; set_source is for replacing it.
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

    def on_event(self, event: ev.Event) -> None:
        match event:
            case ev.OutputAudioBufferStarted(response_id=response_id):
                self._playing_responses.add(response_id)
                if self.speaker is not None:
                    self.speaker.resume()
            case ev.ResponseCreated() if self.speaker is not None:
                # A new reply: what arrives now is its audio, not the tail of an interrupted one
                # (over WebSocket no output_audio_buffer.started ever comes).
                self.speaker.resume()
            case ev.OutputAudioBufferStopped(response_id=response_id):
                self._playing_responses.discard(response_id)
            case ev.OutputAudioBufferCleared():
                # The service dropped what it had not yet sent (server VAD barge-in, or our clear).
                self._playing_responses.clear()
                self._flush_playback()
            case ev.SpeechStarted() if self.options.barge_in and self.assistant_speaking():
                # Server VAD heard the user over the assistant: the service cancels the response
                # itself (interrupt_response); stop what is already here without waiting for it.
                self.barge_ins += 1
                self._flush_playback()
            case _:
                pass

    # ------------------------------------------------------------------ gating

    def assistant_speaking(self, now: float | None = None) -> bool:
        if self._playing_responses:
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

    # ------------------------------------------------------------------ push-to-talk

    def stop_assistant(self) -> bool:
        """Barge in: the service stops the reply, local playback stops at once. True if it was speaking."""
        speaking = self.session.interrupt() or self.assistant_speaking()
        if speaking:
            self.barge_ins += 1
        self._flush_playback()
        return speaking

    async def press(self) -> None:
        if self._release is not None and not self._release.done():
            # A new press while the last release waits for its tail: commit that turn now.
            self._release.cancel()
            await asyncio.gather(self._release, return_exceptions=True)
            self.session.commit_and_respond()
        self.stop_assistant()
        self.session.clear_input()
        self._release_frames = 0
        if self.mic is not None:
            self.mic.discard()
            self._press_frames = self.mic.frames_sent
        self.pressed = True

    def release(self) -> bool:
        """Close the microphone and (after the tail) commit. False when the press was too short."""
        if not self.pressed:
            return False
        self.pressed = False
        in_flight = self.mic.frames_in_flight() if self.mic is not None else 0
        # Without a microphone (it is paused, or the input is a file) there is nothing to measure.
        turn_ms = (self.mic.frames_sent - self._press_frames + in_flight) * FRAME_MS if self.mic is not None else None
        if turn_ms is not None and turn_ms < self.options.min_turn_ms:
            self.short_presses += 1
            log.info("push-to-talk press too short (%d ms of audio): dropped", turn_ms)
            self.session.clear_input()
            return False
        self._release_frames = in_flight
        self._release_drained = asyncio.Event()
        if self._release_frames == 0:
            self._release_drained.set()
        self._release = asyncio.get_running_loop().create_task(self._commit_after_tail())
        return True

    async def _commit_after_tail(self) -> None:
        try:
            await asyncio.wait_for(self._release_drained.wait(), RELEASE_DRAIN_MAX_S)
        except TIMEOUT_ERRORS:
            self._release_frames = 0
        await asyncio.sleep(self.options.release_tail_ms / 1000)
        try:
            self.session.commit_and_respond()
        except VoicePilotError as exc:
            log.warning("push-to-talk commit failed: %s", exc.message)

    def _flush_playback(self) -> None:
        if self.speaker is not None:
            self.speaker.flush()

    # ------------------------------------------------------------------ devices

    async def _supervise(self) -> None:
        while True:
            # Levels and the devices' health at each tick, on the grid the session's watchdog shares.
            await sleep_on_grid(LEVEL_INTERVAL_S)
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

    def _state_of(self, kind: Kind, opened_as: str | None, device: Device) -> DeviceStateName:
        """``active`` when the device opened by the name ``opened_as`` is the chosen one, else ``fallback``."""
        preferred = self.preferred[kind]
        return "active" if opened_as == preferred or device.name == preferred else "fallback"

    def _report(self, kind: Kind, state: DeviceStateName, message: str, failed: bool) -> None:
        """Tell the reporter what the ``kind`` device is now; ``failed``: because one failed or went away."""
        previous, self._state[kind] = self._state[kind], state
        stream = self._stream(kind)
        device = stream.device.name if stream is not None else None
        error_kind = ErrorKind.DEVICE if failed else None
        self._reporter.on_device_state(DeviceStateReport(kind, state, previous, device, message, error_kind))

    def device_state(self, kind: Kind) -> DeviceStateName:
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
        stats: dict[str, float] = {"bargeIns": float(self.barge_ins), "shortPresses": float(self.short_presses)}
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
        for task in (self._task, self._release):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self.mic is not None or self._paused["input"]:
            self._set_source(None)
        for stream in (self.mic, self.speaker):
            if stream is not None:
                await stream.close()


def _what(kind: Kind) -> str:
    return "microphone" if kind == "input" else "speaker"
