"""Live audio for a session: what the sidecar and ``voicepilot talk`` both do with a microphone.

:func:`attach_audio` opens the speaker (when wanted), builds the :class:`VoiceAudio` that gates the
microphone and plays the reply, and hooks it into the session (its events, its remote audio, the
microphone router's source). Device errors are raised, classified, before the session connects.
"""

from __future__ import annotations

from voicepilot.audio.capture import Microphone
from voicepilot.audio.devices import Kind
from voicepilot.audio.playback import Speaker
from voicepilot.audio.tracks import FrameSource
from voicepilot.audio.voice import (
    AudioOptions,
    AudioReporter,
    VoiceAudio,
    available_devices,
    open_speaker,
)
from voicepilot.contract.models import AudioDevice, DeviceInput, DeviceOutput, StartSessionParams
from voicepilot.conversation.wire import wire_device
from voicepilot.realtime.session import RealtimeSession


def wants_speaker(params: StartSessionParams) -> bool:
    """The assistant is heard through the speaker unless told otherwise, or the input is a file."""
    if params.output is not None:
        return isinstance(params.output, DeviceOutput)
    return params.input is None or isinstance(params.input, DeviceInput)


async def attach_audio(
    session: RealtimeSession, params: StartSessionParams, reporter: AudioReporter, output_name: str | None = None
) -> VoiceAudio | None:
    """Wire the session's devices; None when it has none (file in, nothing out)."""
    mic = session.source if isinstance(session.source, Microphone) else None
    speaker: Speaker | None = None
    if wants_speaker(params):
        if isinstance(params.output, DeviceOutput) and params.output.name:
            output_name = params.output.name
        try:
            speaker = await open_speaker(output_name)
        except BaseException:
            if mic is not None:
                await mic.close()
            raise
    if mic is None and speaker is None:
        return None

    def set_source(source: FrameSource | None) -> None:
        session.router.source = source

    audio = VoiceAudio(
        session,
        set_source,
        reporter,
        AudioOptions(
            push_to_talk=params.turn_taking == "pushToTalk",
            barge_in=params.barge_in,
            echo_cancellation=params.echo_cancellation,
        ),
        mic,
        speaker,
        preferred_input=params.input.name if isinstance(params.input, DeviceInput) else None,
        preferred_output=output_name,
    )
    session.on_event = audio.on_event
    session.on_remote_frame = audio.on_remote_frame
    audio.start()
    return audio


async def device_listing(kind: Kind) -> list[AudioDevice]:
    return [wire_device(d) for d in await available_devices(kind)]
