"""The replayed history keeps conversation order when the user's transcript comes late."""

from __future__ import annotations

from voicepilot.realtime.history import History


def test_a_transcript_after_the_reply_lands_before_it() -> None:
    history = History(max_items=20, max_chars=100)
    history.reserve("item_user_1")
    history.add("assistant", "Going to line 5.", "item_reply_1")
    history.add("user", "go to line 5", "item_user_1")
    assert list(history) == [("user", "go to line 5"), ("assistant", "Going to line 5.")]


def test_an_untranscribed_turn_is_left_out_and_unreserved_ones_go_last() -> None:
    history = History(max_items=20, max_chars=100)
    history.reserve("item_silent")
    history.add("user", "typed text")
    history.add("assistant", "Sure.", "item_reply")
    assert list(history) == [("user", "typed text"), ("assistant", "Sure.")]


def test_bounded_by_turns_and_characters() -> None:
    history = History(max_items=2, max_chars=4)
    for number in range(3):
        history.add("user", f"turn {number}", f"item_{number}")
    assert list(history) == [("user", "turn"), ("user", "turn")]
    assert len(list(history)) == 2
