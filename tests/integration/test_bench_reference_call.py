"""The bench's CPU reference (aiortc's defaults, two processes) connects and measures its call."""

from __future__ import annotations

import pytest

from tests.bench import reference_call

pytestmark = pytest.mark.integration


async def test_the_reference_call_connects_and_its_offering_peer_uses_cpu() -> None:
    run = await reference_call.measure(seconds=1.0, settle_s=0.0)

    assert run.seconds >= 1.0
    # Encoding and sending a tone 50 times a second costs something: a peer that did not stream
    # would measure 0.
    assert run.cpu_pct > 0.5
