"""What the user heard of a WebSocket answer: the client's half of ``conversation.item.truncate``.

Over WebRTC the service plays its answer and knows where it was cut. Over WebSocket the client
plays it (PCM16 at 24 kHz in ``response.output_audio.delta``), so when the user interrupts, only
the client knows how much was heard, and it must tell the model (``conversation.item.truncate``)
so that the context holds nothing the user never heard.

The service sends faster than real time and says ``response.done`` long before the answer has
played, so the answer is remembered until it is known to have played to its end. "Heard" is
estimated as real time since the answer's first audio arrived (playback starts then).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from voicepilot.realtime import events as ev


class HeardAnswer:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.item_id: str | None = None
        self._started_at = 0.0
        self._bytes = 0

    def note_audio(self, item_id: str, pcm_bytes: int) -> None:
        """Audio of ``item_id`` arrived (``pcm_bytes`` decoded bytes)."""
        if item_id != self.item_id:
            self.item_id, self._started_at, self._bytes = item_id, self._clock(), 0
        self._bytes += pcm_bytes

    def truncation(self, response_active: bool) -> ev.ConversationItemTruncate | None:
        """The truncation to send now that the user interrupts; None when there is nothing left to
        hear (no answer, or all of it played and no more is coming). Either way it is forgotten."""
        if self.item_id is None:
            return None
        received_ms = self._bytes // 2 * 1000 // ev.WEBSOCKET_PCM_RATE
        played_ms = int((self._clock() - self._started_at) * 1000)
        item_id, self.item_id = self.item_id, None
        if played_ms >= received_ms and not response_active:
            return None  # heard to its end: the model keeps its words
        return ev.ConversationItemTruncate(item_id=item_id, audio_end_ms=min(received_ms, played_ms))
