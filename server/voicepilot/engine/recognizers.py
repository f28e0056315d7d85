"""Warm recognizers, shared by the engine's conversations.

Loading a recognizer holds the GIL for about 0.35 s (measured: the event loop stalls that long
even with the load in a thread). Done when a call starts, that stall lands exactly on a session
handover and shows up as a gap in the received audio. So the engine loads a few once, in the
background after it starts listening, and conversations borrow and return them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from voicepilot.engine.speech.stt import Recognizer

STT_RATE = 16_000


class RecognizerPool:
    def __init__(self, warm: int = 2, max_idle: int = 4) -> None:
        self._warm = warm
        self._max_idle = max_idle
        self._idle: list[Recognizer] = []
        self._warming: asyncio.Task[None] | None = None
        self.loaded = 0

    def start_warming(self) -> None:
        if self._warming is None and self._warm > 0:
            self._warming = asyncio.get_running_loop().create_task(self._warm_up())

    async def _warm_up(self) -> None:
        for _ in range(self._warm):
            self._idle.append(await self._load(()))

    async def _load(self, tools: Sequence[Mapping[str, Any]]) -> Recognizer:
        recognizer = await asyncio.to_thread(Recognizer, list(tools), STT_RATE)
        self.loaded += 1
        return recognizer

    async def acquire(self, tools: Sequence[Mapping[str, Any]]) -> Recognizer:
        if not self._idle and self._warming is not None and not self._warming.done():
            await asyncio.shield(self._warming)
        if self._idle:
            recognizer = self._idle.pop()
            recognizer.update_tools(tools)
            return recognizer
        return await self._load(tools)

    def release(self, recognizer: Recognizer) -> None:
        if len(self._idle) < self._max_idle:
            self._idle.append(recognizer)

    async def close(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        self._idle.clear()
