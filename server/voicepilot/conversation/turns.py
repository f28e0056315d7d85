"""Turn taking: what the service's events and the push-to-talk button do to the live audio.

:class:`ServiceAudio` reads the service's events (a reply playing, its buffer cleared, the user
heard over the assistant) and tells :class:`~voicepilot.audio.voice.VoiceAudio` in its own terms.
:class:`PushToTalk` drives a turn: a press barges in and opens the microphone, a release commits
what was said once its tail has gone out (docs/protocol.md, "Push-to-talk on the wire").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from voicepilot.audio.voice import VoiceAudio
from voicepilot.errors import VoicePilotError
from voicepilot.realtime import events as ev

log = logging.getLogger(__name__)

MIN_TURN_MS = 120  # the service's minimum commit is 100 ms; a little margin for a lost frame
RELEASE_TAIL_MS = 120
RELEASE_DRAIN_MAX_S = 1.0  # a stalled microphone does not hold the commit back longer than this


class SessionControls(Protocol):
    """What turn taking asks of the session."""

    def clear_input(self) -> None: ...

    def commit_and_respond(self) -> None: ...

    def interrupt(self) -> bool: ...


@dataclass(frozen=True)
class TurnOptions:
    min_turn_ms: int = MIN_TURN_MS
    release_tail_ms: int = RELEASE_TAIL_MS


class ServiceAudio:
    """The service's events, as what they mean for playback and the echo gate."""

    def __init__(self, audio: VoiceAudio) -> None:
        self._audio = audio

    def on_event(self, event: ev.Event) -> None:
        audio = self._audio
        match event:
            case ev.OutputAudioBufferStarted(response_id=response_id):
                audio.reply_playing(response_id)
            case ev.ResponseCreated():
                # Over WebSocket no output_audio_buffer.started ever comes: a new response is the cue.
                audio.reply_coming()
            case ev.OutputAudioBufferStopped(response_id=response_id):
                audio.reply_played(response_id)
            case ev.OutputAudioBufferCleared():
                # The service dropped what it had not yet sent (server VAD barge-in, or our clear).
                audio.replies_dropped()
            case ev.SpeechStarted() if audio.options.barge_in and audio.assistant_speaking():
                # Server VAD heard the user over the assistant: the service cancels the response
                # itself (interrupt_response); stop what is already here without waiting for it.
                audio.cut_playback(barge_in=True)
            case _:
                pass


class PushToTalk:
    """The push-to-talk button (and the barge-in key of conversation mode)."""

    def __init__(self, session: SessionControls, audio: VoiceAudio, options: TurnOptions | None = None) -> None:
        self._session = session
        self._audio = audio
        self.options = options or TurnOptions()
        self.short_presses = 0
        self._release: asyncio.Task[None] | None = None

    @property
    def pressed(self) -> bool:
        return self._audio.pressed

    def stop_assistant(self) -> bool:
        """Barge in: the service stops the reply, local playback stops at once. True if it was speaking."""
        speaking = self._session.interrupt() or self._audio.assistant_speaking()
        self._audio.cut_playback(barge_in=speaking)
        return speaking

    async def press(self) -> None:
        if self._release is not None and not self._release.done():
            # A new press while the last release waits for its tail: commit that turn now.
            self._release.cancel()
            await asyncio.gather(self._release, return_exceptions=True)
            self._session.commit_and_respond()
        self.stop_assistant()
        self._session.clear_input()
        self._audio.open_turn()

    def release(self) -> bool:
        """Close the microphone and (after the tail) commit. False when the press was too short."""
        if not self._audio.pressed:
            return False
        turn_ms, in_flight = self._audio.close_turn()
        # Without a microphone (it is paused, or the input is a file) there is nothing to measure.
        if turn_ms is not None and turn_ms < self.options.min_turn_ms:
            self.short_presses += 1
            log.info("push-to-talk press too short (%d ms of audio): dropped", turn_ms)
            self._session.clear_input()
            return False
        self._audio.send_in_flight(in_flight)
        self._release = asyncio.get_running_loop().create_task(self._commit_after_tail())
        return True

    async def _commit_after_tail(self) -> None:
        await self._audio.wait_in_flight(RELEASE_DRAIN_MAX_S)
        await asyncio.sleep(self.options.release_tail_ms / 1000)
        try:
            self._session.commit_and_respond()
        except VoicePilotError as exc:
            log.warning("push-to-talk commit failed: %s", exc.message)

    def stats(self) -> dict[str, float]:
        return {"shortPresses": float(self.short_presses)}

    async def close(self) -> None:
        if self._release is not None:
            self._release.cancel()
            await asyncio.gather(self._release, return_exceptions=True)
