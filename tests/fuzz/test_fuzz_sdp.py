"""SDP answers and offers: garbage is refused with a classified error, never a crash.

Client side: the text the service answers goes through the WebRTC transport's own path (offer,
``setRemoteDescription``, waiting for the channel); whatever it is, ``connect`` ends in a
:class:`VoicePilotError`. Engine side: whatever offer is posted, the answer is 201 or a 4xx JSON
error, never a 500.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiortc import RTCConfiguration, RTCPeerConnection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicepilot.audio.tracks import PacedAudioTrack
from voicepilot.contract.models import ConnectionSettings
from voicepilot.engine.app import Engine, EngineSecrets
from voicepilot.errors import VoicePilotError
from voicepilot.realtime import webrtc
from voicepilot.realtime.endpoints import resolve_endpoint
from voicepilot.realtime.ice import loopback_ice
from voicepilot.realtime.keys import EphemeralKey


async def real_answer() -> tuple[str, str]:
    """A genuine (offer, answer) pair from two aiortc peers, the answerer then gone."""
    offerer, answerer = (
        RTCPeerConnection(RTCConfiguration(iceServers=[])),
        RTCPeerConnection(RTCConfiguration(iceServers=[])),
    )
    try:
        offerer.addTrack(PacedAudioTrack())
        offerer.createDataChannel(webrtc.DATA_CHANNEL_LABEL)
        with loopback_ice():
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            await answerer.setLocalDescription(await answerer.createAnswer())
        return offerer.localDescription.sdp, answerer.localDescription.sdp
    finally:
        await offerer.close()
        await answerer.close()


@pytest.fixture(scope="module")
def genuine() -> tuple[str, str]:
    return asyncio.run(real_answer())


def mutations(sdp: str) -> st.SearchStrategy[str]:
    """A real SDP with lines dropped, duplicated, replaced or truncated, values swapped for junk."""
    lines = sdp.splitlines()
    junk = st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "a=fingerprint:sha-256 ZZ",
                "m=audio 0 RTP/AVP 0",
                "a=setup:",
                "c=IN IP4 999.1.1.1",
                "a=candidate:x",
                "a=mid:",
                "m=application 9 UDP/DTLS/SCTP",
            ]
        ),
    )

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        out = list(lines)
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            if not out:
                break
            i = draw(st.integers(min_value=0, max_value=len(out) - 1))
            action = draw(st.sampled_from(["drop", "dup", "junk", "value", "truncate"]))
            if action == "drop":
                del out[i]
            elif action == "dup":
                out.insert(i, out[i])
            elif action == "junk":
                out[i] = draw(junk)
            elif action == "value":
                key, _, _ = out[i].partition(":")
                out[i] = f"{key}:{draw(st.text(max_size=20))}"
            else:
                text = "\r\n".join(out)
                return text[: draw(st.integers(min_value=0, max_value=len(text)))]
        return "\r\n".join(out) + "\r\n"

    return mutate()


@pytest.fixture
def fast_open(monkeypatch: pytest.MonkeyPatch) -> None:
    # An answer that parses but leads nowhere would wait the full 5 s for ICE; a tenth is plenty on loopback.
    monkeypatch.setattr(webrtc, "OPEN_TIMEOUT_S", 0.1)


async def connect_with(answer: str) -> VoicePilotError | None:
    endpoint = resolve_endpoint("local", ConnectionSettings(endpoint="http://127.0.0.1:9"))
    transport = webrtc.WebRTCTransport(
        endpoint, PacedAudioTrack(), webrtc.TransportCallbacks(lambda _: None, lambda _: None)
    )

    async def answered(offer: str, key: EphemeralKey, http: Any) -> str:
        return answer

    transport._exchange_sdp = answered  # type: ignore[method-assign]
    try:
        await transport.connect(EphemeralKey("ek_test", time.time() + 60), http=None)  # type: ignore[arg-type]
    except VoicePilotError as error:
        return error
    finally:
        await transport.close()
    return None


def client_refuses(answer: str) -> None:
    error = asyncio.run(connect_with(answer))
    # Nothing answers at the far end, so no answer can connect: each must end in a classified error.
    assert isinstance(error, VoicePilotError), answer
    assert error.message


@pytest.mark.usefixtures("fast_open")
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.text(max_size=300))
def test_client_refuses_any_text_as_an_answer(answer: str) -> None:
    client_refuses(answer)


@pytest.mark.usefixtures("fast_open")
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_client_refuses_damaged_real_answers(genuine: tuple[str, str], data: st.DataObject) -> None:
    client_refuses(data.draw(mutations(genuine[1])))


# ----------------------------------------------------------------------------- the engine's side


@pytest.fixture
async def engine_client() -> AsyncIterator[tuple[TestClient[Any, Any], str]]:
    engine = Engine(EngineSecrets("fuzz-key-123456"), loopback=True)
    async with TestClient(TestServer(engine.app())) as client:
        response = await client.post(
            "/openai/v1/realtime/client_secrets",
            json={"session": {"type": "realtime"}},
            headers={"api-key": "fuzz-key-123456"},
        )
        assert response.status == 200
        yield client, (await response.json())["value"]


# The engine lives on the test's loop, so the examples are drawn here rather than by @given.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
async def test_engine_answers_any_offer_with_201_or_a_4xx(
    engine_client: tuple[TestClient[Any, Any], str], genuine: tuple[str, str]
) -> None:
    client, key = engine_client
    offers = st.one_of(st.text(max_size=200).map(lambda t: "m=audio " + t), mutations(genuine[0]))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"}
    for _ in range(60):
        offer = offers.example()
        response = await client.post("/openai/v1/realtime/calls", data=offer.encode(), headers=headers)
        assert response.status == 201 or (400 <= response.status < 500 and "error" in await response.json()), (
            response.status,
            offer,
        )
