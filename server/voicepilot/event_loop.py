"""The event loop the sidecar runs on: uvloop's where it is installed, else asyncio's own.

A call wakes the sidecar's loop about 150 times a second (each packet that arrives, each that
leaves, their handlers), and asyncio's pure-Python loop spends a fair part of each wake-up on its
own bookkeeping (selecting, scheduling handles). uvloop (libuv) does that in C. Measured on a
full-duplex call through the local engine, interleaved 30-second runs on 2026-11-22: 5.9-6.1 % of
a core against 6.2-6.8 % with asyncio's loop (three pairs), and 5.4-6.3 against 5.9-6.3 % (five
pairs, with received silence no longer decoded): 0.2-0.4 points, a few per cent of the sidecar's CPU.
It is not built for Windows, where asyncio's loop is used.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # Windows, or an install without it: the same behaviour, a little more CPU
        log.debug("uvloop is not installed: using asyncio's event loop")
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
