"""The bench's CPU reference (aiortc's defaults, two processes) connects and measures its call."""

from __future__ import annotations

import pytest

from bench import reference_call

pytestmark = pytest.mark.integration


async def test_the_reference_call_connects_and_its_offering_peer_uses_cpu() -> None:
    run = await reference_call.measure(seconds=2.0, settle_s=0.0)

    # Audio flowed both ways, 50 frames a second (half of that allows for a slow start).
    assert run.frames_sent >= 50
    assert run.frames_received >= 50
    assert run.cpu_pct > 0.5
