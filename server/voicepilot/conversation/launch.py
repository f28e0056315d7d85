"""Turning a ``startSession`` request into a :class:`RealtimeSession` joined to its audio.

Shared by the sidecar and ``voicepilot talk`` so both run exactly the same session code: open the
input, resolve the endpoint and credential, open the speaker, build the session configuration and
the live audio, and hand every collaborator to its constructor.
"""

from __future__ import annotations

from voicepilot.audio.capture import Microphone
from voicepilot.audio.file_input import open_audio_file
from voicepilot.audio.tracks import FileFrameSource, FrameSource
from voicepilot.audio.voice import AudioReporter, MicrophoneInput, VoiceAudio, open_microphone
from voicepilot.contract.models import (
    ConnectionSettings,
    DeviceInput,
    SpeechSettings,
    StartSessionParams,
    VadSettings,
)
from voicepilot.contract.turn_detection import TurnDetection
from voicepilot.conversation.endpoint import resolve
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.conversation.live_audio import LiveAudio, audio_options, open_speaker_for, preferred_output
from voicepilot.conversation.turns import PushToTalk, ServiceAudio
from voicepilot.realtime.observer import SessionObserver
from voicepilot.realtime.session import RealtimeSession, SessionOptions
from voicepilot.realtime.session_config import DEFAULT_INSTRUCTIONS, SessionConfig


def turn_detection_for(params: StartSessionParams) -> TurnDetection:
    vad = params.vad or VadSettings()
    speech = params.speech or SpeechSettings()
    return TurnDetection(
        threshold=vad.threshold,
        prefix_padding_ms=vad.prefix_padding_ms,
        silence_duration_ms=vad.silence_duration_ms,
        kind=speech.turn_detection,
        eagerness=speech.eagerness,
        idle_timeout_ms=speech.idle_timeout_ms,
    )


def session_config_for(params: StartSessionParams) -> SessionConfig:
    connection = params.connection
    text_only = params.modality == "text"
    speech = params.speech or SpeechSettings()
    config = SessionConfig(
        model=(connection.deployment if connection and connection.deployment else "gpt-realtime"),
        instructions=(connection.instructions if connection and connection.instructions else DEFAULT_INSTRUCTIONS),
        voice=(connection.voice if connection and connection.voice else None),
        # A text-only conversation sends no speech: there are no turns for the service to detect.
        turn_detection=None if text_only or params.turn_taking == "pushToTalk" else turn_detection_for(params),
        # The type is the session configuration's to write (always "function").
        tools=tuple(tool.model_dump(mode="json", exclude={"type"}) for tool in params.tools),
        output_modality="text" if text_only else "audio",
        noise_reduction=speech.noise_reduction,
        transcription_model=speech.transcription_model or SessionConfig.transcription_model,
        transcription_language=speech.transcription_language,
    )
    return config


async def open_input(params: StartSessionParams) -> FrameSource | None:
    """The session's audio: a file, or the microphone (named, else the default), opened and running.

    Device errors (no PortAudio, no microphone, busy, permission denied) are raised here, so they
    answer the startSession request. PortAudio is loaded only for a device. A text-only
    conversation has no input.
    """
    if params.modality == "text":
        return None
    if params.input is None or params.input.kind == "device":
        return await open_microphone(params.input.name if params.input else None)
    return FileFrameSource(await open_audio_file(params.input.path, params.input.max_seconds))


async def close_input(source: FrameSource | None) -> None:
    """Let go of what an input holds: a microphone its device, a file its decoder (idempotent)."""
    close = getattr(source, "close", None)
    if close is not None:
        await close()


async def build_conversation(
    session_id: str,
    params: StartSessionParams,
    api_key: str | None,
    engine: LocalEngineProcess,
    observer: SessionObserver,
    reporter: AudioReporter,
    output_name: str | None = None,
    *,
    turn_credential: str | None = None,
) -> tuple[RealtimeSession, LiveAudio | None]:
    """Everything up to (not including) connecting: the input, the endpoint, the speaker, the live
    audio (None without devices: a file in, nothing out). Raises a classified error on bad input;
    device errors are raised here, before the session connects."""
    source = await open_input(params)
    try:
        endpoint, credential = await resolve(params, api_key, engine, turn_credential)
        speaker = None if params.modality == "text" else await open_speaker_for(params, output_name)
    except BaseException:
        await close_input(source)
        raise
    config, options = session_config_for(params), session_options_for(params)
    mic = source if isinstance(source, Microphone) else None
    if mic is None and speaker is None:
        return RealtimeSession(session_id, endpoint, credential, config, observer, source, options), None
    mic_input = MicrophoneInput(mic) if mic is not None else None
    audio = VoiceAudio(
        mic_input.use if mic_input is not None else None,
        reporter,
        audio_options(params),
        mic,
        speaker,
        preferred_input=params.input.name if isinstance(params.input, DeviceInput) else None,
        preferred_output=preferred_output(params, output_name),
    )
    session = RealtimeSession(
        session_id,
        endpoint,
        credential,
        config,
        observer,
        mic_input if mic_input is not None else source,
        options,
        on_event=ServiceAudio(audio).on_event,
        on_remote_frame=audio.on_remote_frame,
    )
    live = LiveAudio(audio, PushToTalk(session, audio))
    audio.start()
    return session, live


def session_options_for(params: StartSessionParams) -> SessionOptions:
    connection = params.connection or ConnectionSettings()
    defaults = SessionOptions()
    return SessionOptions(
        renew_interval_s=connection.renew_interval_s or defaults.renew_interval_s,
        max_session_s=connection.max_session_s,
        transport=connection.transport or defaults.transport,
    )
