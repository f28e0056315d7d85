"""The conversation so far, in conversation order, for replay into the next service session.

The service transcribes the user asynchronously: the user's transcript can arrive after the
assistant's reply to it. A user turn therefore takes its place when its audio is committed
(``input_audio_buffer.committed``), and its text fills that place whenever it comes. Bounded
by turns and by characters per turn.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterator
from typing import Literal

Role = Literal["user", "assistant"]


class History:
    def __init__(self, max_items: int, max_chars: int) -> None:
        self._max_items = max_items
        self._max_chars = max_chars
        self._turns: OrderedDict[str, tuple[Role, str]] = OrderedDict()
        self._anonymous = itertools.count()

    def reserve(self, item_id: str) -> None:
        """A user turn whose audio was committed: its place, before whatever answers it."""
        if item_id not in self._turns:
            self._put(item_id, "user", "")

    def add(self, role: Role, text: str, item_id: str | None = None) -> None:
        """A final transcript: into its reserved place if it has one, else at the end."""
        key = item_id if item_id is not None else f"_{next(self._anonymous)}"
        if key in self._turns and self._turns[key][0] == role:
            self._turns[key] = (role, text[: self._max_chars])
        else:
            self._put(key, role, text[: self._max_chars])

    def _put(self, key: str, role: Role, text: str) -> None:
        self._turns.pop(key, None)
        self._turns[key] = (role, text)
        while len(self._turns) > self._max_items:
            self._turns.popitem(last=False)

    def __iter__(self) -> Iterator[tuple[Role, str]]:
        """The turns with text, oldest first (a turn never transcribed is left out)."""
        return ((role, text) for role, text in self._turns.values() if text)
