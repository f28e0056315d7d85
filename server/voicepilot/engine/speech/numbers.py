"""Spoken English numbers from zero to nine hundred ninety-nine, both ways.

The command grammar accepts exactly the word sequences :func:`number_to_words` can produce, plus
the optional "and" after "hundred" ("one hundred and five"), and :func:`words_to_number` reads
them back. Both are pure so the grammar and its tests share one definition.
"""

from __future__ import annotations

from collections.abc import Sequence

UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ZERO = "zero"
HUNDRED = "hundred"
AND = "and"
LARGEST = 999

_SMALL_VALUES = {word: value for value, word in enumerate((ZERO, *UNITS, *TEENS))}
_UNIT_VALUES = {word: value for value, word in enumerate(UNITS, start=1)}
_TENS_VALUES = {word: value for value, word in zip(range(20, 100, 10), TENS, strict=True)}


def number_to_words(number: int) -> str:
    """``42`` -> ``"forty two"``; ``105`` -> ``"one hundred five"``."""
    if not 0 <= number <= LARGEST:
        raise ValueError(f"{number} is outside 0..{LARGEST}")
    if number < 20:
        return (ZERO, *UNITS, *TEENS)[number]
    if number < 100:
        tens, unit = divmod(number, 10)
        return TENS[tens - 2] if unit == 0 else f"{TENS[tens - 2]} {UNITS[unit - 1]}"
    hundreds, rest = divmod(number, 100)
    head = f"{UNITS[hundreds - 1]} {HUNDRED}"
    return head if rest == 0 else f"{head} {number_to_words(rest)}"


def words_to_number(words: Sequence[str]) -> int | None:
    """``["forty", "two"]`` -> ``42``; ``None`` when the words are not one number."""
    if list(words) == [ZERO]:
        return 0
    if len(words) >= 2 and words[1] == HUNDRED:
        hundreds = _UNIT_VALUES.get(words[0])
        if hundreds is None:
            return None
        rest = list(words[2:])
        if rest[:1] == [AND]:
            rest = rest[1:]
            if not rest:
                return None
        if not rest:
            return hundreds * 100
        below = _below_hundred(rest)
        return None if below is None else hundreds * 100 + below
    return _below_hundred(words)


def _below_hundred(words: Sequence[str]) -> int | None:
    """1..99 as "seven", "twelve", "forty" or "forty two"."""
    if len(words) == 1:
        word = words[0]
        if word in _TENS_VALUES:
            return _TENS_VALUES[word]
        value = _SMALL_VALUES.get(word)
        return value if value else None
    if len(words) == 2 and words[0] in _TENS_VALUES and words[1] in _UNIT_VALUES:
        return _TENS_VALUES[words[0]] + _UNIT_VALUES[words[1]]
    return None
