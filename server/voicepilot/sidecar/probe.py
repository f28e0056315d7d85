"""The connection checks of "Run Connection Diagnostics": key minted, SDP exchanged, data channel
open, round trip, and the media path (which candidate pair carries the call: host, srflx or relay,
UDP or TCP).

A running conversation answers them from its live connection. Without one, a short probe session
does the real steps (mint an ephemeral key, post the SDP offer, open the events channel, wait for
the service's first event) with silence as its input, and is closed again; the editor hears
nothing of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from voicepilot.contract.models import DiagnosticCheck, StartSessionParams
from voicepilot.conversation.endpoint import resolve
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.conversation.launch import session_config_for, session_options_for
from voicepilot.errors import VoicePilotError
from voicepilot.realtime import events as ev
from voicepilot.realtime.ice_servers import turn_transport
from voicepilot.realtime.observer import LifecycleEvent, Notice, StateChange, ToolCall, Transcript
from voicepilot.realtime.session import RealtimeSession
from voicepilot.realtime.webrtc import WebRTCTransport
from voicepilot.realtime.websocket import WebSocketTransport
from voicepilot.tasks import TIMEOUT_ERRORS

PROBE_TIMEOUT_S = 20.0
# How long the probe waits for the service's first event once the channel is open.
FIRST_EVENT_TIMEOUT_S = 5.0
KEY, SDP, CHANNEL, ROUND_TRIP = "key minted", "SDP exchanged", "data channel open", "round trip"
PATH = "media path"
STEPS = (KEY, SDP, CHANNEL, ROUND_TRIP, PATH)


class QuietObserver:
    """The probe's observer: remembers how far the session got, tells the editor nothing."""

    def __init__(self) -> None:
        self.states: list[str] = []

    def on_state(self, change: StateChange) -> None:
        self.states.append(change.state)

    def on_transcript(self, transcript: Transcript) -> None:
        pass

    def on_notice(self, notice: Notice) -> None:
        pass

    def on_lifecycle(self, event: LifecycleEvent) -> None:
        pass

    async def run_tool(self, call: ToolCall) -> str:
        return '{"ok": false, "error": "diagnostics probe"}'


async def connection_checks(session: RealtimeSession, first_event_ms: float | None = None) -> list[DiagnosticCheck]:
    """The four checks, read from a connected session."""
    stats = await session.stats()
    keys = session.keys
    key = keys.current if keys is not None else None
    checks = [
        DiagnosticCheck(
            name=KEY,
            ok=key is not None,
            detail=(
                f"An ephemeral key was minted at {session.endpoint.mint_url} in {stats.get('keyMintMs', 0):.0f} ms; "
                f"it expires in {key.seconds_left():.0f} s."
                if key is not None
                else "No ephemeral key is held."
            ),
            next_step=None if key is not None else "Run the diagnostics again; check the credential if it fails.",
        )
    ]
    active = session.active
    transport = active.transport if active is not None else None
    if transport is None:
        missing = "The session has no connection."
        checks += [DiagnosticCheck(name=name, ok=False, detail=missing) for name in (SDP, CHANNEL)]
    elif isinstance(transport, WebSocketTransport):
        checks.append(DiagnosticCheck(name=SDP, ok=True, detail="Not needed: the WebSocket transport is in use."))
        checks.append(DiagnosticCheck(name=CHANNEL, ok=True, detail="Events travel on the open WebSocket."))
    else:
        call_id = transport.call_id
        checks.append(
            DiagnosticCheck(
                name=SDP,
                ok=True,
                detail=f"The service answered the WebRTC offer (call {call_id or 'without an id'}).",
            )
        )
        state = transport.channel_state
        checks.append(
            DiagnosticCheck(
                name=CHANNEL,
                ok=state == "open",
                detail=f"The oai-events data channel is {state}.",
                next_step=None if state == "open" else "Check that UDP traffic to the service is allowed.",
            )
        )
    events = session.counters.get("events", 0)
    rtt = stats.get("rttMs")
    parts = [f"the service answered over the events channel ({events} events)"]
    if first_event_ms is not None:
        parts.append(f"first event {first_event_ms:.0f} ms after connecting began")
    if rtt is not None:
        parts.append(f"media round trip {rtt:.0f} ms")
    checks.append(
        DiagnosticCheck(
            name=ROUND_TRIP,
            ok=events > 0,
            detail=_sentence("; ".join(parts)) if events > 0 else "No event came back from the service.",
            next_step=None if events > 0 else "The service accepted the connection but does not answer: try again.",
        )
    )
    checks.append(_path_check(session, transport))
    return checks


def _path_check(session: RealtimeSession, transport: object) -> DiagnosticCheck:
    if isinstance(transport, WebSocketTransport):
        return DiagnosticCheck(name=PATH, ok=True, detail="Audio and events travel on the WebSocket (TCP).")
    path = transport.ice_path() if isinstance(transport, WebRTCTransport) else None
    if path is None:
        return DiagnosticCheck(
            name=PATH,
            ok=False,
            detail="ICE has not chosen a candidate pair.",
            next_step="Check that UDP traffic to the service (or to the TURN server) is allowed.",
        )
    via = ""
    turn = session.endpoint.ice.turn
    if path.local_type == "relay" and turn is not None:
        via = f", relayed by the TURN server {turn.url} (reached over {turn_transport(turn.url).upper()})"
    return DiagnosticCheck(
        name=PATH,
        ok=True,
        detail=(
            f"The call goes from a {path.local_type} candidate to a {path.remote_type} candidate over "
            f"{path.protocol.upper()}{via} ({path.local} -> {path.remote})."
        ),
    )


async def probe_connection(
    params: StartSessionParams, api_key: str | None, engine: LocalEngineProcess, turn_credential: str | None = None
) -> list[DiagnosticCheck]:
    """Connect a silent session with `params`, read the checks, close it."""
    observer = QuietObserver()
    session: RealtimeSession | None = None
    try:
        first_event = asyncio.Event()
        arrived: list[float] = []

        def on_event(event: ev.Event) -> None:
            if not arrived:
                arrived.append(time.monotonic())
            first_event.set()

        endpoint, credential = await resolve(params, api_key, engine, turn_credential)
        session = RealtimeSession(
            "vp_probe",
            endpoint,
            credential,
            session_config_for(params),
            observer,
            None,
            session_options_for(params),
            on_event=on_event,
        )
        started = time.monotonic()
        await asyncio.wait_for(session.start(), PROBE_TIMEOUT_S)
        with contextlib.suppress(*TIMEOUT_ERRORS):
            await asyncio.wait_for(first_event.wait(), FIRST_EVENT_TIMEOUT_S)
        return await connection_checks(session, (arrived[0] - started) * 1000 if arrived else None)
    except VoicePilotError as exc:
        return _failed_at(observer.states, exc.message, exc.next_step)
    except TIMEOUT_ERRORS:
        return _failed_at(observer.states, f"No connection within {PROBE_TIMEOUT_S:.0f} s.", "Check the network.")
    finally:
        if session is not None:
            await session.close("diagnostics probe done")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _failed_at(states: list[str], message: str, next_step: str | None) -> list[DiagnosticCheck]:
    """The checks of a probe that failed: the steps it got past pass, the next one fails, the rest are not run."""
    reached = 0 if "connecting" not in states else 1
    checks = []
    for index, name in enumerate(STEPS):
        if index < reached:
            checks.append(DiagnosticCheck(name=name, ok=True, detail="Done."))
        elif index == reached:
            checks.append(DiagnosticCheck(name=name, ok=False, detail=message, next_step=next_step))
        else:
            checks.append(DiagnosticCheck(name=name, ok=False, detail="Not tried: an earlier step failed."))
    return checks
