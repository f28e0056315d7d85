"""The event loop the sidecar runs on: uvloop's where it is installed, else asyncio's own.

A call wakes the loop about 150 times a second, and asyncio's pure-Python loop spends a fair part of
each wake-up on its own bookkeeping; uvloop does it in C (0.2-0.4 points of a core less: see
docs/performance.md). It is not built for Windows, where asyncio's loop is used.
"""

from __future__ import annotations

import asyncio
import logging
import sys

log = logging.getLogger(__name__)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed and not on Windows, else asyncio's."""
    if sys.platform == "win32":
        # asyncio's Proactor loop: subprocesses (the engine) work there, and no uvloop is built.
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:  # an install without it: the same behaviour, a little more CPU
        log.debug("uvloop is not installed: using asyncio's event loop")
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
