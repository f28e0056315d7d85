import pytest

from voicepilot.engine.speech.numbers import number_to_words, words_to_number


@pytest.mark.parametrize(
    ("words", "number"),
    [
        ("zero", 0),
        ("seven", 7),
        ("twelve", 12),
        ("forty", 40),
        ("forty two", 42),
        ("one hundred", 100),
        ("one hundred five", 105),
        ("three hundred twenty one", 321),
        ("nine hundred ninety nine", 999),
    ],
)
def test_number_words_both_ways(words: str, number: int) -> None:
    assert words_to_number(words.split()) == number
    assert number_to_words(number) == words


def test_every_number_round_trips() -> None:
    for number in range(1000):
        assert words_to_number(number_to_words(number).split()) == number


def test_hundred_may_be_followed_by_and() -> None:
    assert words_to_number(["one", "hundred", "and", "five"]) == 105
    assert words_to_number(["two", "hundred", "and"]) is None


@pytest.mark.parametrize(
    "words",
    ["", "forty forty", "two forty", "twelve two", "zero zero", "hundred", "ten hundred", "one thousand", "dog"],
)
def test_word_sequences_that_are_not_one_number(words: str) -> None:
    assert words_to_number(words.split()) is None


def test_numbers_outside_the_spoken_range_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        number_to_words(1000)
    with pytest.raises(ValueError, match="outside"):
        number_to_words(-1)
