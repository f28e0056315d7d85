"""Response sequencing against the strict engine: tool outputs, the follow-up response, failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from tests.integration.test_connection import talk
from tests.integration.test_round_trip import ok_tool, start_params

pytestmark = pytest.mark.integration

# Long enough that every tool answers while the response that carried its call is still active.
HOLD_MS = 1000


def creates_after_outputs(record: dict[str, Any]) -> tuple[int, int]:
    """How many response.create the client sent, and how many of them came after its last output."""
    events = record["clientEvents"]
    last_output = max(i for i, name in enumerate(events) if name == "conversation.item.create")
    creates = [i for i, name in enumerate(events) if name == "response.create"]
    return len(creates), len([i for i in creates if i > last_output])


async def test_a_tool_that_answers_before_response_done_is_spoken_and_talk_exits(
    engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(holdResponseDoneMs=HOLD_MS)
    lines = await talk(engine, samples / "go_to_line_42.wav")  # asserts exit 0: the session went quiet

    (tool_call,) = [line for line in lines if line["type"] == "tool_call"]
    assert tool_call["name"] == "go_to_line"
    assert tool_call["arguments"] == {"line": 42}
    replies = [line["text"] for line in lines if line["type"] == "transcript" and line["role"] == "assistant"]
    assert any("42" in text for text in replies), replies
    assert not [line for line in lines if line["type"] == "diagnostics" and "active response" in line["message"]]
    (record,) = (await engine.control())["calls"]
    assert [o["call_id"] for o in record["functionCallOutputs"]] == [tool_call["callId"]]
    # One request, sent once the response was done; none refused, so none sent twice.
    assert creates_after_outputs(record) == (1, 1)


async def test_the_own_request_counter_is_back_to_zero_after_a_tool_round_trip(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(holdResponseDoneMs=HOLD_MS)
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_42.wav", engine))
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=40)
    assert "42" in sidecar.final_transcripts("assistant")[0]

    def settled() -> dict[str, Any] | None:
        stats = sidecar.last_stats()
        return stats if stats.get("events", 0) > 0 and stats.get("ownResponseRequests") == 0 else None

    stats = await sidecar.wait_for(settled, timeout=10)
    assert stats["refused_responses"] == 0
    assert stats["service_errors"] == 0


async def test_a_request_refused_in_a_race_is_retried_after_the_next_response_done(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    """The engine starts a response of its own as the follow-up request arrives, and refuses it."""
    await engine.faults(raceCreates=1)
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_42.wav", engine))
    # The engine's own response answers the output first, then the retried request does again.
    await sidecar.wait_for(lambda: len(sidecar.final_transcripts("assistant")) >= 2, timeout=40)

    def settled() -> dict[str, Any] | None:
        stats = sidecar.last_stats()
        return stats if stats.get("refused_responses") == 1 and stats.get("ownResponseRequests") == 0 else None

    stats = await sidecar.wait_for(settled, timeout=10)
    assert stats["service_errors"] == 0  # accounted for, not shown to the user
    (record,) = (await engine.control())["calls"]
    assert record["clientEvents"].count("response.create") == 2
    assert len(sidecar.final_transcripts("assistant")) == 2


@pytest.mark.parametrize("flavor", ["ga", "preview"])
async def test_two_parallel_calls_in_one_response_get_one_reply(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path, flavor: str
) -> None:
    """Preview servers leave the call's name out of the arguments event: it comes from the item."""
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    params = start_params(samples / "go_to_line_12.wav", engine, apiFlavor=flavor)
    await sidecar.request("voicepilot/startSession", params)
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=40)  # line 12 answered
    await engine.faults(holdResponseDoneMs=HOLD_MS)
    answer = await engine.act(
        callTools=[
            {"name": "go_to_line", "arguments": {"line": 3}},
            {"name": "go_to_line", "arguments": {"line": 7}},
        ]
    )
    (call_ids,) = answer["parallelCallIds"]

    await sidecar.wait_for(lambda: len(sidecar.final_transcripts("assistant")) >= 2, timeout=30)
    reply = sidecar.final_transcripts("assistant")[1]
    assert "3" in reply, reply
    assert "7" in reply, reply
    parallel = [r for r in sidecar.tool_requests if r["callId"] in call_ids]
    assert [(r["name"], r["arguments"]) for r in parallel] == [("go_to_line", {"line": 3}), ("go_to_line", {"line": 7})]
    (record,) = (await engine.control())["calls"]
    outputs = record["functionCallOutputs"]
    assert sorted(o["call_id"] for o in outputs[-2:]) == sorted(call_ids)
    assert all(json.loads(o["output"])["ok"] for o in outputs)
    # One request per round trip (line 12, then the pair), each after the outputs it answers.
    assert creates_after_outputs(record) == (2, 1)


@pytest.mark.parametrize(
    ("kind", "error_kind", "said"),
    [
        ("rate_limit", "quota", "Rate limit reached"),
        ("quota", "quota", "exceeded your current quota"),
        ("content_filter", "protocol", "content filter"),
    ],
)
async def test_a_failed_response_is_shown_with_its_message(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path, kind: str, error_kind: str, said: str
) -> None:
    await engine.faults(failResponses=1, failKind=kind)
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_42.wav", engine))

    def shown() -> dict[str, Any] | None:
        return next((d for d in sidecar.of("voicepilot/diagnostics") if d.get("errorKind")), None)

    diagnostics = await sidecar.wait_for(shown, timeout=40)
    assert diagnostics["errorKind"] == error_kind
    assert said in diagnostics["message"]
    # The failed response carried no call, so none ran; the session stays up.
    assert sidecar.tool_requests == []
    assert sidecar.states() == ["authenticating", "connecting", "connected"]
    stats = await sidecar.wait_for(lambda: sidecar.last_stats().get("failed_responses"), timeout=10)
    assert stats == 1


def function_call(call_id: str, status: str, line: int) -> dict[str, Any]:
    arguments = json.dumps({"line": line}) if status == "completed" else ""
    return {
        "id": f"item_{call_id}",
        "object": "realtime.item",
        "type": "function_call",
        "status": status,
        "name": "go_to_line",
        "call_id": call_id,
        "arguments": arguments,
    }


async def test_a_call_that_comes_only_as_a_completed_item_runs_once_and_a_cancelled_ones_never(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=40)  # line 12 answered
    completed, cancelled = function_call("call_only_item", "completed", 9), function_call("call_cut", "completed", 5)
    events = [
        # No arguments events: the call is only in output_item.done and response.done.
        {"type": "response.created", "response": {"id": "resp_items", "status": "in_progress", "output": []}},
        {
            "type": "response.output_item.added",
            "response_id": "resp_items",
            "item": function_call("call_only_item", "in_progress", 9),
        },
        {"type": "response.output_item.done", "response_id": "resp_items", "item": completed, "brand_new_field": 1},
        {"type": "response.done", "response": {"id": "resp_items", "status": "completed", "output": [completed]}},
    ]
    await engine.act(sendEvents=[json.dumps(event) for event in events])
    await sidecar.wait_for(lambda: len(sidecar.final_transcripts("assistant")) >= 2, timeout=30)
    # Answered (the engine never made that call itself, so its reply cannot name it).
    assert sidecar.final_transcripts("assistant")[1].startswith("Done")
    events = [
        {"type": "response.created", "response": {"id": "resp_cut", "status": "in_progress", "output": []}},
        {"type": "response.done", "response": {"id": "resp_cut", "status": "cancelled", "output": [cancelled]}},
        {"type": "brand.new.event"},  # counted once the events before it were handled
    ]
    await engine.act(sendEvents=[json.dumps(event) for event in events])

    def counted() -> dict[str, Any] | None:
        stats = sidecar.last_stats()
        return stats if stats.get("unknown_events", 0) >= 1 and stats.get("ownResponseRequests") == 0 else None

    stats = await sidecar.wait_for(counted, timeout=10)
    ran = [(r["callId"], r["name"], r["arguments"]) for r in sidecar.tool_requests]
    assert ran[1:] == [("call_only_item", "go_to_line", {"line": 9})]
    assert stats["protocol_errors"] == 0
    assert stats["unknown_fields"] >= 1
