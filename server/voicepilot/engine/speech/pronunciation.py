"""Pronunciations for grammar words, checked against the dictionary pocketsphinx ships.

Words the dictionary lacks (file extensions, developer jargon) must be added to the decoder with
their phones, or the grammar fails to compile. :func:`derive_phones` guesses them, and a word it
cannot guess is left out of the grammar by the caller.
"""

from __future__ import annotations

import functools

import pocketsphinx

DICTIONARY_PATH = pocketsphinx.get_model_path("en-us/cmudict-en-us.dict")

# Developer words spoken as words rather than letters (".py" is "pie", not "pee why").
_KNOWN_JARGON = {
    "py": "P AY",
    "json": "JH EY S AH N",
    "readme": "R IY D M IY",
    "config": "K AA N F IH G",
    "yaml": "Y AE M AH L",
    "toml": "T AA M AH L",
}

# Letter names, for short words spoken as initialisms ("ts" in index.ts, "js").
_LETTERS = {
    "a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY",
    "h": "EY CH", "i": "AY", "j": "JH EY", "k": "K EY", "l": "EH L", "m": "EH M", "n": "EH N",
    "o": "OW", "p": "P IY", "q": "K Y UW", "r": "AA R", "s": "EH S", "t": "T IY", "u": "Y UW",
    "v": "V IY", "w": "D AH B AH L Y UW", "x": "EH K S", "y": "W AY", "z": "Z IY",
}  # fmt: skip
_LONGEST_INITIALISM = 4
_SHORTEST_COMPOUND_PART = 2


@functools.cache
def _dictionary() -> dict[str, str]:
    """word -> phones of its first pronunciation (about 135 000 words, read once per process)."""
    entries: dict[str, str] = {}
    with open(DICTIONARY_PATH, encoding="utf-8") as lines:
        for line in lines:
            word, _, phones = line.rstrip("\n").partition(" ")
            if "(" not in word:  # "word(2)" lines are alternative pronunciations
                entries[word] = phones
    return entries


def is_known(word: str) -> bool:
    """Whether the decoder can already pronounce ``word``."""
    return word in _dictionary()


@functools.cache
def derive_phones(word: str) -> str | None:
    """Phones for a word the dictionary lacks, or ``None`` when there is no reasonable guess.

    Tries, in order: a short list of developer words, two dictionary words run together
    ("con" + "fig"), and spelling out words of up to four letters ("ts" -> "T IY EH S").
    """
    if word in _KNOWN_JARGON:
        return _KNOWN_JARGON[word]
    dictionary = _dictionary()
    for split in range(_SHORTEST_COMPOUND_PART, len(word) - _SHORTEST_COMPOUND_PART + 1):
        head, tail = word[:split], word[split:]
        if head in dictionary and tail in dictionary:
            return f"{dictionary[head]} {dictionary[tail]}"
    if len(word) <= _LONGEST_INITIALISM and all(letter in _LETTERS for letter in word):
        return " ".join(_LETTERS[letter] for letter in word)
    return None
