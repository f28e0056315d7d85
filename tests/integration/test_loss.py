"""Speech that survives 10 % random packet loss: a WebRTC and a WebSocket session side by side in a
private network namespace where nftables drops the packets (bench/probe.py; needs root), against
the real local engine: every utterance transcribed, holes concealed, FEC asked for."""

from __future__ import annotations

import pytest

from bench.probe import latency_in_netns

# Real time under real loss on a shared machine: with the timing tests (untraced, re-run once).
pytestmark = [pytest.mark.integration, pytest.mark.timing]


def test_every_utterance_is_transcribed_at_ten_percent_loss() -> None:
    result = latency_in_netns(10, 16)
    webrtc, websocket = result["webrtc"], result["websocket"]
    assert webrtc["failure"] is None
    assert websocket["failure"] is None
    assert result["expected"] >= 2
    assert webrtc["transcribed"] == result["expected"]
    assert websocket["transcribed"] == result["expected"]
    # The engine's receiver reports made the client's encoder send FEC for the loss it saw.
    assert webrtc["fecHintPct"] >= 5
    # Holes in the replies' audio were filled (concealed), not skipped: there were some at 10 %.
    assert webrtc["playbackGapMsMax"] > 0
    assert websocket["playbackGapMsMax"] == 0  # TCP retransmits: nothing to conceal
