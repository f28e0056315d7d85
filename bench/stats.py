"""Small measurement helpers: percentiles, one-way latency from two timestamp lists, /proc."""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every reported number was measured)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def onsets(times: Sequence[float], gap_s: float) -> list[float]:
    """The times that follow at least ``gap_s`` without any (the start of each sound)."""
    ordered = sorted(times)
    return [t for i, t in enumerate(ordered) if i == 0 or t - ordered[i - 1] > gap_s]


def one_way_latencies(
    departures: Sequence[float], arrivals: Sequence[float], gap_s: float = 0.3, window_s: float = 1.0
) -> list[float]:
    """For each sound that left (an onset in ``departures``), how long until the first audible frame
    arrived at the other end. Both lists are on one clock (CLOCK_MONOTONIC is system-wide on Linux,
    so two processes on this machine share it). A sound whose first frames were all lost counts
    from the first frame that did arrive; one with nothing inside ``window_s`` is not counted."""
    received = sorted(arrivals)
    latencies = []
    for departed in onsets(departures, gap_s):
        i = bisect.bisect_left(received, departed)
        if i < len(received) and received[i] - departed < window_s:
            latencies.append(received[i] - departed)
    return latencies


@dataclass(frozen=True)
class ProcSample:
    """What /proc says about one process at one moment."""

    cpu_s: float
    rss_mb: float
    fds: int
    threads: int
    sockets: int


def sample(pid: int) -> ProcSample:
    proc = Path(f"/proc/{pid}")
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    rss_pages = int((proc / "statm").read_text().split()[1])
    fds = os.listdir(proc / "fd")
    sockets = 0
    for fd in fds:
        try:
            sockets += os.readlink(proc / "fd" / fd).startswith("socket:")
        except OSError:  # closed between listing and reading
            continue
    return ProcSample(cpu_s, rss_pages * PAGE_SIZE / 2**20, len(fds), len(os.listdir(proc / "task")), sockets)


def cpu_seconds(pid: int) -> float:
    return sample(pid).cpu_s
