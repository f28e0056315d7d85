"""Live audio for a session: its devices and its turn taking, as the front ends drive them.

The sidecar and ``voicepilot talk --mic`` hold a :class:`LiveAudio`: the devices
(:class:`~voicepilot.audio.voice.VoiceAudio`) and the push-to-talk button
(:class:`~voicepilot.conversation.turns.PushToTalk`) of one conversation.
"""

from __future__ import annotations

from voicepilot.audio.devices import Kind
from voicepilot.audio.playback import Speaker
from voicepilot.audio.voice import AudioOptions, VoiceAudio, available_devices, open_speaker
from voicepilot.contract.models import AudioDevice, DeviceInput, DeviceOutput, StartSessionParams
from voicepilot.conversation.turns import PushToTalk
from voicepilot.conversation.wire import wire_device


class LiveAudio:
    def __init__(self, audio: VoiceAudio, turns: PushToTalk) -> None:
        self.audio = audio
        self.turns = turns

    def stats(self) -> dict[str, float]:
        return {**self.audio.stats(), **self.turns.stats()}

    async def close(self) -> None:
        await self.turns.close()
        await self.audio.close()


def wants_speaker(params: StartSessionParams) -> bool:
    """The assistant is heard through the speaker unless told otherwise, or the input is a file."""
    if params.output is not None:
        return isinstance(params.output, DeviceOutput)
    return params.input is None or isinstance(params.input, DeviceInput)


def preferred_output(params: StartSessionParams, remembered: str | None) -> str | None:
    """The speaker asked for by name, else the one the user chose earlier (None: the default)."""
    if isinstance(params.output, DeviceOutput) and params.output.name:
        return params.output.name
    return remembered


async def open_speaker_for(params: StartSessionParams, remembered: str | None) -> Speaker | None:
    return await open_speaker(preferred_output(params, remembered)) if wants_speaker(params) else None


def audio_options(params: StartSessionParams) -> AudioOptions:
    return AudioOptions(
        push_to_talk=params.turn_taking == "pushToTalk",
        barge_in=params.barge_in,
        echo_cancellation=params.echo_cancellation,
    )


async def device_listing(kind: Kind) -> list[AudioDevice]:
    return [wire_device(d) for d in await available_devices(kind)]
