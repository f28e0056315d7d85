"""What the user heard of a WebSocket answer decides the truncation the client sends."""

from __future__ import annotations

from voicepilot.realtime.events import WEBSOCKET_PCM_RATE
from voicepilot.realtime.heard import HeardAnswer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def seconds_of_audio(seconds: float) -> int:
    return int(seconds * WEBSOCKET_PCM_RATE) * 2


def test_an_answer_interrupted_while_it_plays_is_cut_where_the_user_was() -> None:
    clock = Clock()
    heard = HeardAnswer(clock)
    heard.note_audio("item_1", seconds_of_audio(5))  # the service sends 5 s at once
    clock.now += 1.25
    truncation = heard.truncation(response_active=False)  # response.done came long ago
    assert truncation is not None
    assert (truncation.item_id, truncation.content_index, truncation.audio_end_ms) == ("item_1", 0, 1250)
    assert heard.truncation(response_active=False) is None  # said once


def test_an_answer_heard_to_its_end_is_left_alone() -> None:
    clock = Clock()
    heard = HeardAnswer(clock)
    heard.note_audio("item_1", seconds_of_audio(2))
    clock.now += 2.5
    assert heard.truncation(response_active=False) is None
    assert heard.item_id is None  # and forgotten


def test_while_more_is_coming_the_cut_is_at_most_what_arrived() -> None:
    clock = Clock()
    heard = HeardAnswer(clock)
    heard.note_audio("item_1", seconds_of_audio(1))
    clock.now += 1.5  # the service is slower than real time: 1 s arrived, 1.5 s went by
    truncation = heard.truncation(response_active=True)
    assert truncation is not None
    assert truncation.audio_end_ms == 1000


def test_a_new_item_starts_its_own_clock() -> None:
    clock = Clock()
    heard = HeardAnswer(clock)
    heard.note_audio("item_1", seconds_of_audio(1))
    clock.now += 3
    heard.note_audio("item_2", seconds_of_audio(4))
    heard.note_audio("item_2", seconds_of_audio(4))
    clock.now += 0.5
    truncation = heard.truncation(response_active=False)
    assert truncation is not None
    assert (truncation.item_id, truncation.audio_end_ms) == ("item_2", 500)
    assert HeardAnswer(clock).truncation(response_active=True) is None  # nothing came: nothing to cut
