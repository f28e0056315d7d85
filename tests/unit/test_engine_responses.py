"""The local engine is as strict as the service about responses: one at a time, failures on
demand, the call's name left out on preview paths, ``conversation.item.done`` and ``usage``."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_engine_truncate import RecordingLink
from voicepilot.engine.conversation import Conversation
from voicepilot.engine.faults import Faults, FaultSettings
from voicepilot.engine.recognizers import RecognizerPool
from voicepilot.realtime.session_config import Flavor, SessionConfig


async def started(flavor: Flavor = "ga", faults: Faults | None = None) -> tuple[Conversation, RecordingLink]:
    conversation = Conversation(flavor, SessionConfig(), RecognizerPool(warm=0), faults=faults)
    link = RecordingLink()
    conversation.attach(link)
    return conversation, link


def create(event_id: str, **response: object) -> str:
    return json.dumps({"type": "response.create", "event_id": event_id, "response": response or None})


async def test_a_response_create_during_a_response_is_refused_with_the_services_error() -> None:
    conversation, link = await started()
    conversation.on_message(create("evt_first"))
    conversation.on_message(create("evt_second"))
    error = await link.next_of("error")
    assert error["error"]["code"] == "conversation_already_has_active_response"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["event_id"] == "evt_second"
    assert "Wait until the response is finished" in error["error"]["message"]
    await link.next_of("response.done")
    # Once it is done, a request is served again.
    conversation.on_message(create("evt_third"))
    await link.next_of("response.done")
    assert [e for e in link.sent if e["type"] == "error"] == []
    await conversation.close()


async def test_metadata_is_echoed_and_response_done_carries_usage() -> None:
    conversation, link = await started()
    conversation.on_message(create("evt_1", metadata={"tag": "mine"}))
    created = await link.next_of("response.created")
    done = await link.next_of("response.done")
    assert created["response"]["metadata"] == {"tag": "mine"}
    assert done["response"]["metadata"] == {"tag": "mine"}
    usage = done["response"]["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    await conversation.close()


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("quota", "failed", "insufficient_quota"),
        ("rate_limit", "failed", "rate_limit_exceeded"),
        ("server", "failed", "server_error"),
        ("content_filter", "incomplete", None),
    ],
)
async def test_responses_end_failed_on_demand(kind: str, status: str, code: str | None) -> None:
    faults = Faults()
    faults.update(FaultSettings(fail_responses=1, fail_kind=kind))  # type: ignore[arg-type]
    conversation, link = await started(faults=faults)
    conversation.on_message(create("evt_1"))
    done = (await link.next_of("response.done"))["response"]
    assert done["status"] == status
    assert done["output"] == []
    details = done["status_details"]
    assert details["type"] == status
    if code is None:
        assert details["reason"] == "content_filter"
    else:
        assert details["error"]["code"] == code
        assert details["error"]["message"]
    # Only the next N: the one after completes.
    conversation.on_message(create("evt_2"))
    assert (await link.next_of("response.done"))["response"]["status"] == "completed"
    await conversation.close()


@pytest.mark.parametrize("flavor", ["ga", "preview"])
async def test_parallel_calls_in_one_response_and_the_name_only_on_ga(flavor: Flavor) -> None:
    conversation, link = await started(flavor)
    call_ids = conversation.call_tools([("go_to_line", {"line": 3}), ("open_file", {"path": "a.py"})])
    done = (await link.next_of("response.done"))["response"]
    assert [item["call_id"] for item in done["output"]] == call_ids
    added = [e for e in link.sent if e["type"] == "response.output_item.added"]
    assert [(e["output_index"], e["item"]["name"]) for e in added] == [(0, "go_to_line"), (1, "open_file")]
    arguments_done = [e for e in link.sent if e["type"] == "response.function_call_arguments.done"]
    assert [e["call_id"] for e in arguments_done] == call_ids
    if flavor == "ga":
        assert [e["name"] for e in arguments_done] == ["go_to_line", "open_file"]
        assert len([e for e in link.sent if e["type"] == "conversation.item.done"]) == 2
    else:
        assert all("name" not in e for e in arguments_done)
        assert [e for e in link.sent if e["type"] == "conversation.item.done"] == []
    # Both outputs answered in one reply.
    for call_id, output in zip(call_ids, ['{"ok": true}', '{"ok": false, "error": "no such file"}'], strict=True):
        conversation.on_message(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {"type": "function_call_output", "call_id": call_id, "output": output},
                }
            )
        )
    conversation.on_message(create("evt_1"))
    transcript = await link.next_of(
        "response.audio_transcript.done" if flavor == "preview" else "response.output_audio_transcript.done"
    )
    assert transcript["transcript"] == "Done: go to line 3. Sorry, open file a.py failed: no such file."
    await conversation.close()


async def test_response_done_is_held_on_demand() -> None:
    faults = Faults()
    faults.hold_response_done_ms = 200
    conversation, link = await started(faults=faults)
    conversation.call_tool("go_to_line", {"line": 1})
    await link.next_of("response.function_call_arguments.done")
    assert not [e for e in link.sent if e["type"] == "response.done"]
    # While it is held, the response is active: a request is refused.
    conversation.on_message(create("evt_early"))
    assert (await link.next_of("error"))["error"]["code"] == "conversation_already_has_active_response"
    await link.next_of("response.done")
    await conversation.close()


async def test_a_raced_request_is_refused_after_the_engines_own_response_starts() -> None:
    faults = Faults()
    faults.update(FaultSettings(race_creates=1))
    conversation, link = await started(faults=faults)
    conversation.on_message(create("evt_raced", metadata={"tag": "mine"}))
    await link.next_of("response.done")
    created, error = [e for e in link.sent if e["type"] in ("response.created", "error")]
    assert "metadata" not in created["response"]  # the engine's own, not the request's
    assert error["error"]["code"] == "conversation_already_has_active_response"
    assert error["error"]["event_id"] == "evt_raced"
    assert link.sent.index(created) < link.sent.index(error)
    # Only the next N: the one after is served.
    conversation.on_message(create("evt_again", metadata={"tag": "mine"}))
    assert (await link.next_of("response.done"))["response"]["metadata"] == {"tag": "mine"}
    await conversation.close()
