"""The engine's late-transcript switch: the next N, or a seeded random share."""

from __future__ import annotations

from voicepilot.engine.faults import Faults, FaultSettings


def test_the_next_n_transcripts_come_late() -> None:
    faults = Faults()
    faults.update(FaultSettings(late_transcripts=2))
    assert [faults.take_late_transcript() for _ in range(3)] == [True, True, False]


def test_a_seeded_random_share_repeats_and_mixes() -> None:
    def draws() -> list[bool]:
        faults = Faults()
        faults.update(FaultSettings(late_transcript_rate=0.5, seed=19))
        return [faults.take_late_transcript() for _ in range(40)]

    first = draws()
    assert first == draws()
    assert 5 < sum(first) < 35
