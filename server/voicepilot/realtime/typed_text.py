"""Typed text as a user turn: the ``conversation.item.create`` that carries it.

A typed message is a user ``message`` item with one ``input_text`` part (the same in GA and
preview); the reply is asked for with ``response.create`` through the response sequencer, as for
a push-to-talk release. The service sends no transcription for it, so the client reports the text
itself.
"""

from __future__ import annotations

import uuid

from voicepilot.errors import protocol_error
from voicepilot.realtime import events as ev

# The service's item ids are at most 32 characters.
_ID_PREFIX = "vp_text_"


def new_text_item_id() -> str:
    return _ID_PREFIX + uuid.uuid4().hex[:20]


def user_text_event(text: str, item_id: str) -> ev.ConversationItemCreate:
    """The event that adds ``text`` to the conversation as the user's turn."""
    cleaned = text.strip()
    if not cleaned:
        raise protocol_error("A typed message needs some text.")
    return ev.ConversationItemCreate(
        item={
            "id": item_id,
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": cleaned}],
        }
    )
