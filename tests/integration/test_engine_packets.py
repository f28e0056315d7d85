"""The engine hears a client that sends 40 ms Opus packets (RFC 7587 allows up to 120 ms in one), as
the service hears any client: a raw aiortc peer on loopback, the real engine process."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from tests.integration.engine_process import EngineProcess
from voicepilot.audio.file_input import load_audio_file
from voicepilot.audio.frames import rms_dbfs
from voicepilot.audio.opus import OpusEncodedTrack
from voicepilot.audio.tracks import FileFrameSource, PacedAudioTrack
from voicepilot.contract.models import ConnectionSettings
from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.engine.conversation import SOUND_FLOOR_DBFS
from voicepilot.realtime.endpoints import resolve_endpoint
from voicepilot.realtime.ice import loopback_ice
from voicepilot.realtime.keys import ApiKeyCredential, mint_ephemeral_key
from voicepilot.realtime.session_config import SessionConfig

pytestmark = pytest.mark.integration

TOOLS = tuple(tool.wire() for tool in EDITOR_TOOLS)  # the engine's command grammar comes from them


async def test_the_engine_hears_a_client_that_sends_40_ms_packets(engine: EngineProcess, samples: Path) -> None:
    frames = await load_audio_file(samples / "go_to_line_42.wav")
    paced = PacedAudioTrack()  # silence until the events channel is open, as the sidecar does
    track = OpusEncodedTrack(paced, frames_per_packet=2)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(track)
    channel = pc.createDataChannel("oai-events")
    heard: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_message(message: str) -> None:
        event = json.loads(message)
        if event["type"] == "conversation.item.input_audio_transcription.completed" and not heard.done():
            heard.set_result(event["transcript"])

    channel.on("message", on_message)
    channel.on("open", lambda: setattr(paced, "source", FileFrameSource(frames)))
    endpoint = resolve_endpoint("local", ConnectionSettings(endpoint=engine.url))
    try:
        with loopback_ice():
            await pc.setLocalDescription(await pc.createOffer())
        async with aiohttp.ClientSession() as http:
            key = await mint_ephemeral_key(http, endpoint, ApiKeyCredential(engine.api_key), SessionConfig(tools=TOOLS))
            headers = {"Authorization": f"Bearer {key.value}", "Content-Type": "application/sdp"}
            async with http.post(endpoint.calls_url, data=pc.localDescription.sdp, headers=headers) as answer:
                assert answer.status == 201
                await pc.setRemoteDescription(RTCSessionDescription(sdp=await answer.text(), type="answer"))
        assert await asyncio.wait_for(heard, timeout=20) == "go to line forty two"
        (call,) = (await engine.control())["calls"]
    finally:
        await pc.close()
    # The engine's record counts 20 ms frames: two for each 40 ms packet, at that packet's arrival.
    audible = sum(1 for frame in frames if rms_dbfs(frame) > SOUND_FLOOR_DBFS)
    arrivals = Counter(call["soundArrivals"])
    assert max(arrivals.values()) == 2
    assert abs(sum(arrivals.values()) - audible) <= 2  # the codec's smear at the edges of speech
