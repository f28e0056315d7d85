"""Spoken conversations through real (virtual) devices: PulseAudio -> sidecar -> engine -> speaker.

The sidecar process captures the daemon's default microphone (``vmic``, fed by ``paplay -d micfeed``)
and plays the assistant through its default speaker, whose monitor a test records. Everything in
between is the product: PortAudio, resampling, the paced track, WebRTC, the engine, the playout
buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import pytest

from tests.fixtures.pulse import MIC, MIC_FEED, MonitorRecorder, PulseAudio
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import RpcError, SidecarClient
from tests.integration.spoken import failing_then_ok_tool, spoken_ms
from voicepilot.audio.file_input import load_audio_file
from voicepilot.audio.frames import FRAME_MS, Pcm
from voicepilot.contract.tools import EDITOR_TOOLS

pytestmark = pytest.mark.integration

TOOLS = [tool.wire() for tool in EDITOR_TOOLS]
BARGE_IN_BUDGET_S = 0.1
CAPTURE_FLOWING_FRAMES = 25  # 0.5 s of capture after the first frame, before anything is said


async def ok_tool(params: dict[str, Any]) -> dict[str, Any]:
    return {"output": json.dumps({"ok": True})}


async def start(sidecar: SidecarClient, engine: EngineProcess, **params: Any) -> str:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    request = {
        "profile": "local",
        "input": {"kind": "device"},
        "tools": TOOLS,
        "connection": {"endpoint": engine.url},
        **params,
    }
    result = await sidecar.request("voicepilot/startSession", request)
    await sidecar.wait_state("connected")
    # Speak only once the microphone captures, as a person waits for the indicator: on a freshly
    # started PulseAudio a new capture can begin a second or more late, and the start of a command
    # said into it would be lost (seen as "go to line forty two" heard as "down the line for detail",
    # twice, both times in the first test on a new daemon, the second time after the first frames had
    # been captured). So: until the capture has kept flowing for a while (stats come once a second).
    await sidecar.wait_for(lambda: sidecar.last_stats().get("micFramesCaptured", 0) > 0, timeout=10)
    flowing_from = sidecar.last_stats()["micFramesCaptured"] + CAPTURE_FLOWING_FRAMES
    await sidecar.wait_for(lambda: sidecar.last_stats()["micFramesCaptured"] >= flowing_from, timeout=10)
    session_id: str = result["sessionId"]
    return session_id


def device_changes(sidecar: SidecarClient) -> list[dict[str, Any]]:
    """Every voicepilot/deviceState notification: none while the devices work."""
    return sidecar.of("voicepilot/deviceState")


def errors_in_diagnostics(sidecar: SidecarClient) -> list[dict[str, Any]]:
    return [d for d in sidecar.of("voicepilot/diagnostics") if d.get("errorKind")]


async def until(
    sidecar: SidecarClient, engine: EngineProcess, what: str, predicate: Callable[[], Any], timeout: float = 20
) -> None:
    """Wait for ``predicate``; if it does not come true, fail naming ``what`` was awaited, with what was
    called and heard: a real-time test that times out says at which step and in which state."""
    try:
        await sidecar.wait_for(predicate, timeout=timeout)
    except TimeoutError:
        calls = [r["arguments"] for r in sidecar.tool_requests]
        # How each turn was heard (confidence, length) and what the capture path counted (lost
        # blocks, device flags, stalls): a misheard command told apart from a clipped one.
        heard = [call["turns"] for call in (await engine.control())["calls"]]
        capture = {k: v for k, v in sidecar.last_stats().items() if k.startswith(("mic", "echo", "barge"))}
        replies = sidecar.final_transcripts("assistant")
        pytest.fail(
            f"waited {timeout} s for {what}; tool calls {calls}; the engine heard {heard}; "
            f"the assistant said {replies}; capture: {capture}"
        )


async def wait_for_tool_calls(sidecar: SidecarClient, engine: EngineProcess, count: int) -> None:
    await until(sidecar, engine, f"{count} tool calls", lambda: len(sidecar.tool_requests) >= count)


async def utterance(tmp_path: Path, samples: Path, text: str) -> Path:
    """One utterance of the bundled commands.wav as its own file, with 100 ms of silence around it.

    "hello can you hear me" is answered with "You said: hello can you hear me." (2.2 s of speech,
    long enough to talk over); "save all files" (1.4 s) fits inside that reply.
    """
    catalogue = json.loads((samples / "commands.json").read_text())
    spoken = next(u for u in catalogue["utterances"] if u["text"] == text)
    frames: list[Pcm] = await load_audio_file(samples / "commands.wav")
    start, end = (spoken["start_ms"] - 100) // FRAME_MS, (spoken["end_ms"] + 100) // FRAME_MS
    path = tmp_path / (text.replace(" ", "_") + ".wav")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=48_000, layout="mono")
        for index, frame in enumerate(frames[start:end]):
            out = av.AudioFrame.from_ndarray(frame.reshape(1, -1), format="s16", layout="mono")
            out.sample_rate, out.pts = 48_000, index * 960
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


async def test_a_spoken_command_through_the_microphone_and_the_reply_through_the_speaker(
    pulse: PulseAudio, sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await start(sidecar, engine)
    async with MonitorRecorder(pulse) as speaker:
        spoke_at = time.monotonic()
        await pulse.say(samples / "go_to_line_42.wav")
        await wait_for_tool_calls(sidecar, engine, 1)
        call = sidecar.tool_requests[0]
        assert (call["name"], call["arguments"]) == ("go_to_line", {"line": 42})
        await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=20)
        reply = sidecar.final_transcripts("assistant")[0]
        assert reply == "Done: go to line 42."
        # The reply is heard on the speaker: its whole length, then silence.
        expected_s = await spoken_ms(reply) / 1000
        await speaker.wait_for(lambda: speaker.loud_seconds(spoke_at) >= 0.8 * expected_s, timeout=10)
        last = speaker.loud_times()[-1]
        await speaker.wait_for(lambda: speaker.quiet_for(0.5), timeout=10)
    assert sidecar.final_transcripts("user") == ["go to line forty two"]
    heard = speaker.loud_seconds(spoke_at)
    assert 0.8 * expected_s <= heard <= 1.2 * expected_s + 0.1, (heard, expected_s)
    assert speaker.loud_times()[0] > spoke_at + 1.5  # nothing was played before the user spoke
    assert last > speaker.loud_times()[0]

    levels = sidecar.of("voicepilot/audioLevel")
    assert max(level["inputDbfs"] for level in levels) > -30  # the level indicator saw the speech
    assert max(level["outputDbfs"] for level in levels) > -30  # and the reply
    assert all(level["inputDevice"] == "default" and level["micOpen"] in (True, False) for level in levels)
    times = [n.at for n in sidecar.notifications if n.method == "voicepilot/audioLevel"]
    assert len(times) / (times[-1] - times[0]) <= 10.5  # at most 10 Hz
    assert device_changes(sidecar) == []
    assert errors_in_diagnostics(sidecar) == []


async def test_push_to_talk_turn(
    pulse: PulseAudio, sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await start(sidecar, engine, turnTaking="pushToTalk")
    assert await sidecar.request("voicepilot/pushToTalk", {"pressed": True}) == {"accepted": True}
    await pulse.say(samples / "go_to_line_12.wav")
    assert await sidecar.request("voicepilot/pushToTalk", {"pressed": False}) == {"accepted": True}
    await wait_for_tool_calls(sidecar, engine, 1)
    assert sidecar.tool_requests[0]["arguments"] == {"line": 12}
    assert sidecar.final_transcripts("user") == ["go to line twelve"]
    events = (await engine.control())["calls"][0]["clientEvents"]
    turn = [e for e in events if e.startswith("input_audio_buffer") or e == "response.create"]
    assert turn[:3] == ["input_audio_buffer.clear", "input_audio_buffer.commit", "response.create"]
    assert device_changes(sidecar) == []
    assert errors_in_diagnostics(sidecar) == []


async def test_a_press_shorter_than_100ms_gives_no_error_and_no_turn(
    pulse: PulseAudio, sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await start(sidecar, engine, turnTaking="pushToTalk")
    await sidecar.request("voicepilot/pushToTalk", {"pressed": True})
    await sidecar.request("voicepilot/pushToTalk", {"pressed": False})
    # A real turn afterwards still works, and by then anything the tap caused has arrived.
    await sidecar.request("voicepilot/pushToTalk", {"pressed": True})
    await pulse.say(samples / "go_to_line_12.wav")
    await sidecar.request("voicepilot/pushToTalk", {"pressed": False})
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=20)
    events = (await engine.control())["calls"][0]["clientEvents"]
    assert events.count("input_audio_buffer.commit") == 1
    assert device_changes(sidecar) == []
    assert errors_in_diagnostics(sidecar) == []
    assert not [d for d in sidecar.of("voicepilot/diagnostics") if "buffer" in (d.get("message") or "")]
    assert sidecar.states() == ["authenticating", "connecting", "connected"]


async def test_pressing_while_the_assistant_speaks_stops_it_within_100ms(
    pulse: PulseAudio, sidecar: SidecarClient, engine: EngineProcess, samples: Path, tmp_path: Path
) -> None:
    await start(sidecar, engine, turnTaking="pushToTalk")
    await sidecar.request("voicepilot/pushToTalk", {"pressed": True})
    await pulse.say(await utterance(tmp_path, samples, "hello can you hear me"))
    async with MonitorRecorder(pulse) as speaker:
        await sidecar.request("voicepilot/pushToTalk", {"pressed": False})
        # The reply ("You said: hello can you hear me.") starts playing...
        await speaker.wait_for(lambda: speaker.loud_seconds() >= 0.3, timeout=20)
        pressed_at = time.monotonic()
        await sidecar.request("voicepilot/pushToTalk", {"pressed": True})
        # ...and stops: no sound reaches the speaker's monitor after the budget.
        await speaker.wait_for(lambda: speaker.chunks[-1][0] > pressed_at + 0.6, timeout=5)
    last_sound = speaker.last_sound_at()
    assert last_sound is not None
    stopped_after = last_sound - pressed_at
    print(f"barge-in: the speaker went quiet {stopped_after * 1000:.0f} ms after the press")
    assert stopped_after <= BARGE_IN_BUDGET_S, f"playback went on for {stopped_after * 1000:.0f} ms"
    full_s = await spoken_ms(sidecar.final_transcripts("assistant")[0]) / 1000
    assert speaker.loud_seconds() < full_s - 0.5  # it was cut short, not finished
    events = (await engine.control())["calls"][0]["clientEvents"]
    assert "output_audio_buffer.clear" in events
    await sidecar.request("voicepilot/pushToTalk", {"pressed": False})  # a too-short turn: dropped
    assert device_changes(sidecar) == []
    assert errors_in_diagnostics(sidecar) == []
    assert not [d for d in sidecar.of("voicepilot/diagnostics") if d.get("message", "").startswith("The service")]


@contextlib.asynccontextmanager
async def fresh_pair(start_engine: Any, logs: Path) -> AsyncIterator[tuple[EngineProcess, SidecarClient]]:
    """Its own engine and sidecar (logs in ``logs``), for one of the runs a test compares."""
    engine: EngineProcess = await start_engine()
    await asyncio.to_thread(logs.mkdir)
    sidecar = await SidecarClient.start(logs)
    try:
        yield engine, sidecar
    finally:
        await sidecar.stop()


@pytest.mark.timing  # real-time audio: runs untraced, after the coverage run
async def test_the_echo_gate_keeps_the_assistants_voice_out_and_barge_in_lets_the_user_in(
    pulse: PulseAudio, start_engine: Any, samples: Path, tmp_path: Path
) -> None:
    """While the assistant speaks, what reaches the microphone is not sent, unless barge-in is on."""
    results: dict[bool, list[dict[str, Any]]] = {}
    heard: dict[bool, list[str]] = {}
    over_the_reply = await utterance(tmp_path, samples, "save all files")
    for barge_in in (False, True):
        async with fresh_pair(start_engine, tmp_path / f"barge-in-{barge_in}") as (engine, sidecar):
            # A headset: no echo path, so no echo cancellation (its suppressor, still learning that
            # there is no echo, would hold back a word said 0.1 s into the first reply: the next test).
            await start(sidecar, engine, bargeIn=barge_in, echoCancellation=False)
            sidecar.tool_handler = failing_then_ok_tool
            await pulse.say(samples / "go_to_line_42.wav")
            async with MonitorRecorder(pulse) as speaker:
                await speaker.wait_for(lambda: speaker.loud_seconds() > 0, timeout=20)
                await pulse.say(over_the_reply)  # 1.6 s, well inside the reply
                await speaker.wait_for(lambda: speaker.quiet_for(1.0), timeout=15)  # the reply ended
            if not barge_in:
                # Said after the reply, a command is heard: the gate was only closed during it. "After"
                # is when the sidecar opens the gate again: on a busy machine the speaker can be quiet
                # for a second between two sentences of a reply that is still playing.
                await sidecar.wait_for(lambda: sidecar.of("voicepilot/audioLevel")[-1]["micOpen"], timeout=15)
                await pulse.say(samples / "go_to_line_12.wav")
            await wait_for_tool_calls(sidecar, engine, 2)
            results[barge_in] = [r["arguments"] for r in sidecar.tool_requests]
            heard[barge_in] = (await engine.control())["calls"][0]["transcripts"]
    assert results[False] == [{"line": 42}, {"line": 12}]  # "save all files" came during the reply
    assert "save all files" not in heard[False]
    assert results[True] == [{"line": 42}, {}]  # with barge-in it interrupted the reply: save_all()
    assert "save all files" in heard[True]


async def test_devices_are_listed_and_selected_by_name(
    pulse: PulseAudio, sidecar: SidecarClient, engine: EngineProcess
) -> None:
    listing = await sidecar.request("voicepilot/listDevices", {})
    assert MIC in [d["name"] for d in listing["inputs"]]
    assert "speaker" in [d["name"] for d in listing["outputs"]]
    assert "selectedInput" not in listing
    assert await sidecar.request("voicepilot/selectDevices", {"input": MIC}) == {"selectedInput": MIC}
    with pytest.raises(RpcError) as missing:
        await sidecar.request("voicepilot/selectDevices", {"output": "no such speaker"})
    assert missing.value.data["errorKind"] == "device"
    assert (await sidecar.request("voicepilot/listDevices", {}))["selectedInput"] == MIC
    # The remembered input is used by the next session.
    await start(sidecar, engine)
    await sidecar.wait_for(lambda: sidecar.of("voicepilot/audioLevel"))
    assert sidecar.of("voicepilot/audioLevel")[-1]["inputDevice"] == MIC
    assert await sidecar.request("voicepilot/setMute", {"muted": True}) == {"muted": True}
    await sidecar.wait_for(lambda: sidecar.of("voicepilot/audioLevel")[-1]["muted"])
    assert not sidecar.of("voicepilot/audioLevel")[-1]["micOpen"]


@pytest.mark.timing  # real-time audio: runs untraced, after the coverage run
async def test_a_microphone_removed_mid_session_falls_back_to_the_default_without_a_crash(
    pulse: PulseAudio, sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    pulse.pactl("set-default-source", f"{MIC_FEED}.monitor")
    session_id = await start(sidecar, engine, input={"kind": "device", "name": MIC})
    pulse.pactl("unload-module", pulse.module_id("module-virtual-source", f"source_name={MIC}"))
    await sidecar.wait_for(lambda: device_changes(sidecar), timeout=10)
    (change,) = device_changes(sidecar)
    assert change == {
        "sessionId": session_id,
        "kind": "input",
        "state": "fallback",
        "previous": "active",
        "device": "default",
        "message": f"The microphone '{MIC}' disappeared. Using the microphone 'default' now.",
        "errorKind": "device",
    }
    # The conversation goes on, on the default microphone.
    await pulse.say(samples / "go_to_line_12.wav")
    await wait_for_tool_calls(sidecar, engine, 1)
    assert sidecar.tool_requests[0]["arguments"] == {"line": 12}
    # Choosing the default microphone ends the fallback.
    await sidecar.request("voicepilot/selectDevices", {"input": ""})
    await sidecar.wait_for(lambda: len(device_changes(sidecar)) == 2, timeout=10)
    chosen = device_changes(sidecar)[-1]
    assert (chosen["previous"], chosen["state"], chosen["device"]) == ("fallback", "active", "default")
    assert "errorKind" not in chosen
    assert errors_in_diagnostics(sidecar) == []  # told once, as a device state, never as a diagnostics error
    assert sidecar.states() == ["authenticating", "connecting", "connected"]
    assert sidecar.process.returncode is None


async def test_without_any_microphone_start_session_is_a_device_error(engine: EngineProcess, tmp_path: Path) -> None:
    """No sound server and no sound card: no microphone. A DEVICE error in the answer, not a crash."""
    nowhere = {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket", "XDG_RUNTIME_DIR": str(tmp_path)}
    sidecar = await SidecarClient.start(tmp_path, extra_env=nowhere)
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    with pytest.raises(RpcError) as raised:
        await sidecar.request(
            "voicepilot/startSession",
            {"profile": "local", "input": {"kind": "device"}, "connection": {"endpoint": engine.url}},
        )
    assert raised.value.code == -32001
    assert raised.value.data["errorKind"] == "device"
    assert raised.value.message.startswith("No microphone was found.")
    assert sidecar.process.returncode is None
    await sidecar.stop()


ECHO_GAIN_DB = -10.0  # loudspeakers a little way from the microphone: the reply arrives ~-35 dBFS


@pytest.mark.timing  # real-time audio: runs untraced, after the coverage run
async def test_with_barge_in_and_loudspeakers_echo_cancellation_keeps_the_assistant_from_interrupting_itself(
    pulse: PulseAudio, start_engine: Any, samples: Path, tmp_path: Path
) -> None:
    """The speaker's sound reaches the microphone. With barge-in the assistant would hear itself and stop;
    echo cancellation keeps its voice out of what is sent, while the user can still interrupt it."""
    over_the_reply = await utterance(tmp_path, samples, "save all files")
    hello = await utterance(tmp_path, samples, "hello can you hear me")
    heard: dict[bool, list[str]] = {}
    played: dict[bool, tuple[float, float]] = {}
    stats: dict[bool, dict[str, Any]] = {}
    for echo_cancellation in (True, False):
        logs = tmp_path / f"echo-cancellation-{echo_cancellation}"
        async with fresh_pair(start_engine, logs) as (engine, sidecar), pulse.acoustic_loop(ECHO_GAIN_DB):
            await start(sidecar, engine, bargeIn=True, echoCancellation=echo_cancellation)
            sidecar.tool_handler = failing_then_ok_tool  # the first reply is long: about 7 s
            async with MonitorRecorder(pulse) as speaker:
                spoke_at = time.monotonic()
                await pulse.say(samples / "go_to_line_42.wav")
                await until(sidecar, engine, "the first reply", lambda: sidecar.final_transcripts("assistant"))
                full_s = await spoken_ms(sidecar.final_transcripts("assistant")[0]) / 1000
                await speaker.wait_for(lambda: speaker.loud_seconds(spoke_at) > 0, timeout=20)  # noqa: B023
                if echo_cancellation:
                    await speaker.wait_for(lambda: speaker.quiet_for(1.5), timeout=30)
                    played[True] = (speaker.loud_seconds(spoke_at), full_s)
                else:
                    # The assistant hears itself and stops. It may then answer its own voice, over
                    # and over (heard as "yes", answered "You said: yes."): there is no quiet to wait
                    # for, only the barge-in, reported in the stats about once a second.
                    await until(sidecar, engine, "a barge-in", lambda: sidecar.last_stats().get("bargeIns", 0) >= 1)
                    played[False] = (time.monotonic() - speaker.loud_times()[0], full_s)
                    await until(
                        sidecar, engine, "its own voice heard", lambda: len(sidecar.final_transcripts("user")) > 1
                    )
            heard[echo_cancellation] = list((await engine.control())["calls"][0]["transcripts"])
            if echo_cancellation:
                # The user still barges in over a reply ("You said: hello can you hear me.", 2.2 s).
                async with MonitorRecorder(pulse) as speaker:
                    await pulse.say(hello)
                    await speaker.wait_for(lambda: speaker.loud_seconds() >= 0.3, timeout=20)
                    await pulse.say(over_the_reply)
                    await wait_for_tool_calls(sidecar, engine, 2)
                assert sidecar.tool_requests[1]["arguments"] == {}  # save_all(): it interrupted the reply
                await sidecar.wait_for(lambda: sidecar.last_stats().get("echoFramesProcessed"), timeout=10)
                stats[True] = sidecar.last_stats()
    print(f"played (heard s, full s): {played}; the engine heard: {heard}; stats: {stats}")
    # Without echo cancellation the assistant hears itself and stops (the test's loop is loud enough):
    # the barge-in was reported while the reply still had more than a second to play...
    assert len(heard[False]) > 1
    interrupted_after_s, full_s = played[False]
    assert interrupted_after_s < full_s - 1.0, played[False]
    # ...with it, the reply plays to its end and the engine hears only the user.
    assert heard[True] == ["go to line forty two"]
    heard_s, full_s = played[True]
    assert 0.8 * full_s <= heard_s <= 1.2 * full_s + 0.1, played[True]
    assert stats[True]["echoCancellation"] == 1
    assert stats[True]["echoFramesSuppressed"] > 0  # the residual echo suppressor worked too
    assert stats[True]["echoFramesDoubleTalk"] > 0  # and let the user's "save all files" through
