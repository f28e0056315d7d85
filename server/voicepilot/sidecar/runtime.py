"""What the sidecar process holds right now: tasks, threads, peer connections, open files.

Shown by ``voicepilot/runDiagnostics`` (check ``runtime``), so a leak is visible from the editor,
and asserted on by the soak test: after a session ends, every count is back where it started.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading


def runtime_counts() -> dict[str, int]:
    """Live asyncio tasks, threads, RTCPeerConnection objects (after a collection) and open fds."""
    from aiortc import RTCPeerConnection  # here: the sidecar starts without aiortc

    gc.collect()
    peers = sum(1 for obj in gc.get_objects() if isinstance(obj, RTCPeerConnection))
    try:
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux
        fds = -1
    threads = threading.enumerate()
    # The loop's default executor starts workers on demand up to a fixed cap and keeps them: a pool,
    # not a leak, so counted apart.
    executor = sum(1 for thread in threads if thread.name.startswith("asyncio_"))
    return {
        "tasks": len(asyncio.all_tasks()),
        "threads": len(threads) - executor,
        "executorThreads": executor,
        "peerConnections": peers,
        "openFiles": fds,
    }


def describe_runtime(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}={value}" for name, value in counts.items())
