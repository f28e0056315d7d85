"""The local engine carries out ``conversation.item.truncate`` as the service does: only an assistant
message's audio, never past its end; the transcript goes, and ``conversation.item.truncated`` says so."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from voicepilot.audio.frames import Pcm
from voicepilot.engine.conversation import Conversation
from voicepilot.engine.recognizers import RecognizerPool
from voicepilot.realtime.session_config import SessionConfig


class RecordingLink:
    """A WebSocket client's side of the link: every event the engine sends, parsed."""

    kind = "websocket"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def send(self, payload: str) -> None:
        self.sent.append(json.loads(payload))
        self.arrived.set()

    def play(self, samples: Pcm, response_id: str, item_id: str) -> None:
        self.played_ms = samples.size * 1000 // 48_000

    def clear_audio(self) -> bool:
        return False

    def hang_up(self) -> None: ...

    async def next_of(self, kind: str) -> dict[str, Any]:
        while not (found := [e for e in self.sent if e["type"] == kind]):
            self.arrived.clear()
            await self.arrived.wait()
        self.sent.remove(found[0])
        return found[0]


@pytest.fixture
async def spoken() -> Any:
    """A conversation whose assistant has just said something (its item id, its length in ms)."""
    conversation = Conversation("ga", SessionConfig(), RecognizerPool(warm=0))
    link = RecordingLink()
    conversation.attach(link)
    conversation.on_message(json.dumps({"type": "response.create"}))
    done = await link.next_of("response.done")
    (item,) = done["response"]["output"]
    yield conversation, link, item["id"], link.played_ms
    await conversation.close()


def truncate(item_id: str, end_ms: int, event_id: str = "evt_1") -> str:
    return json.dumps(
        {
            "type": "conversation.item.truncate",
            "event_id": event_id,
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": end_ms,
        }
    )


async def test_the_unheard_part_of_an_answer_is_cut_and_its_transcript_dropped(spoken: Any) -> None:
    conversation, link, item_id, audio_ms = spoken
    assert audio_ms > 500
    conversation.on_message(truncate(item_id, 300))
    truncated = await link.next_of("conversation.item.truncated")
    assert (truncated["item_id"], truncated["content_index"], truncated["audio_end_ms"]) == (item_id, 0, 300)
    assert conversation.record.truncations == [(item_id, 300)]
    item = next(i for i in conversation._items if i["id"] == item_id)
    assert [part["transcript"] for part in item["content"]] == [""]
    # Cut again, shorter: its length is now 300 ms, so 400 is past the end.
    conversation.on_message(truncate(item_id, 400, "evt_2"))
    error = (await link.next_of("error"))["error"]
    assert (error["code"], error["event_id"]) == ("invalid_value", "evt_2")


@pytest.mark.parametrize(
    ("target", "end_ms", "message"),
    [
        ("the answer", 10**6, "outside the item's audio"),
        ("the answer", -1, "outside the item's audio"),
        ("no such item", 100, "does not exist"),
        ("a user message", 100, "Only the audio of an assistant message"),
    ],
)
async def test_a_truncate_that_cannot_be_done_is_an_error_and_changes_nothing(
    spoken: Any, target: str, end_ms: int, message: str
) -> None:
    conversation, link, item_id, _ = spoken
    if target == "a user message":
        create = {
            "type": "conversation.item.create",
            "item": {
                "id": "item_user",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hi"}],
            },
        }
        conversation.on_message(json.dumps(create))
        item_id = "item_user"
    elif target == "no such item":
        item_id = "item_nowhere"
    conversation.on_message(truncate(item_id, end_ms))
    error = (await link.next_of("error"))["error"]
    assert (error["type"], error["code"], error["event_id"]) == ("invalid_request_error", "invalid_value", "evt_1")
    assert message in error["message"]
    assert conversation.record.truncations == []
    assert not [e for e in link.sent if e["type"] == "conversation.item.truncated"]
