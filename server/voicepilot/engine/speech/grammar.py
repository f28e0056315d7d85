"""A spoken-command grammar built from the function tools a session declares.

Each tool becomes one phrase: the words of its name ("go_to_line" -> "go to line"), then one
spoken slot per required parameter: a number from zero to nine hundred ninety-nine, or one of the
``enum`` (else ``examples``) strings spoken as words ("main.py" -> "main dot py"). Optional
parameters are never spoken; a tool that cannot be said this way is listed in ``skipped_tools``.
Every phrase may start with "please", and one ending in "all" may name its object ("save all
files"). docs/engine.md describes the recogniser as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from voicepilot.engine.speech import numbers, pronunciation

GRAMMAR_NAME = "voicepilot"
POLITE_PREFIX = "please"
# Objects people add to a name that leaves them implicit: "save all" -> "save all files".
_OPTIONAL_OBJECTS = {"all": "files"}
_SYMBOL_WORDS = {".": "dot", "_": "underscore", "-": "dash", "/": "slash"}
_TOKEN = re.compile(r"[a-z]+|[0-9]+|\S")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SENTENCE_PUNCTUATION = re.compile(r"[,;:!?]|\.(?=\s|$)")
_LONGEST_NUMBER = 5  # words in "seven hundred and seventy seven"


@dataclass(frozen=True)
class ToolCall:
    """A function call recognised from speech: the tool's name and its JSON arguments."""

    name: str
    arguments: dict[str, Any]


class _Part(Protocol):
    """One piece of a command phrase: renders itself as JSGF and matches recognised words."""

    def jsgf(self) -> str: ...

    def vocabulary(self) -> Iterable[str]: ...

    def matches(self, words: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Every way this part can consume a prefix of ``words``: (words used, arguments)."""
        ...


@dataclass(frozen=True)
class _Words:
    words: tuple[str, ...]
    optional: bool = False

    def jsgf(self) -> str:
        text = " ".join(self.words)
        return f"[{text}]" if self.optional else text

    def vocabulary(self) -> Iterable[str]:
        return self.words

    def matches(self, words: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.optional:
            yield 0, {}
        if tuple(words[: len(self.words)]) == self.words:
            yield len(self.words), {}


@dataclass(frozen=True)
class _Choice:
    """A parameter spoken as one of a few phrases, each standing for one value."""

    param: str
    values: Mapping[tuple[str, ...], Any]

    def jsgf(self) -> str:
        return "(" + " | ".join(" ".join(spoken) for spoken in self.values) + ")"

    def vocabulary(self) -> Iterable[str]:
        return (word for spoken in self.values for word in spoken)

    def matches(self, words: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        for spoken, value in self.values.items():
            if tuple(words[: len(spoken)]) == spoken:
                yield len(spoken), {self.param: value}


@dataclass(frozen=True)
class _Number:
    param: str
    minimum: float | None
    maximum: float | None

    def jsgf(self) -> str:
        return "<number>"

    def vocabulary(self) -> Iterable[str]:
        return ()  # number words are all in the dictionary

    def matches(self, words: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
        for length in range(1, min(_LONGEST_NUMBER, len(words)) + 1):
            value = numbers.words_to_number(words[:length])
            if value is not None and self._in_range(value):
                yield length, {self.param: value}

    def _in_range(self, value: int) -> bool:
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)


@dataclass(frozen=True)
class _Command:
    tool: str
    parts: tuple[_Part, ...]

    def jsgf(self) -> str:
        return " ".join(part.jsgf() for part in self.parts)

    def parse(self, words: Sequence[str]) -> dict[str, Any] | None:
        return _match(self.parts, words)


def _match(parts: Sequence[_Part], words: Sequence[str]) -> dict[str, Any] | None:
    """Arguments when ``parts`` consume exactly ``words``, trying every split (phrases are short)."""
    if not parts:
        return {} if not words else None
    for used, arguments in parts[0].matches(words):
        rest = _match(parts[1:], words[used:])
        if rest is not None:
            return arguments | rest
    return None


@dataclass(frozen=True)
class CommandGrammar:
    """The JSGF grammar for a set of tools, the extra words it needs, and the way back to calls.

    ``jsgf`` is empty when no tool could be expressed; ``extra_words`` maps each grammar word the
    bundled dictionary lacks to ARPAbet phones, to add to the decoder before the grammar.
    """

    jsgf: str
    extra_words: dict[str, str]
    skipped_tools: tuple[str, ...] = ()
    _commands: tuple[_Command, ...] = field(default=(), repr=False)

    @classmethod
    def from_tools(cls, tools: Sequence[Mapping[str, Any]]) -> CommandGrammar:
        commands: list[_Command] = []
        skipped: list[str] = []
        for tool in tools:
            command = _command(tool)
            if command is None:
                skipped.append(str(tool.get("name", "")))
            else:
                commands.append(command)
        vocabulary = {word for command in commands for part in command.parts for word in part.vocabulary()}
        extra_words = {word: _phones(word) for word in sorted(vocabulary) if not pronunciation.is_known(word)}
        return cls(_render(commands), extra_words, tuple(skipped), tuple(commands))

    def parse(self, text: str) -> ToolCall | None:
        """The tool call a recognised phrase stands for, or ``None`` if it is not a whole command."""
        words = text.lower().split()
        if words[:1] == [POLITE_PREFIX]:
            words = words[1:]
        for command in self._commands:
            arguments = command.parse(words)
            if arguments is not None:
                return ToolCall(command.tool, arguments)
        return None

    def parse_typed(self, text: str) -> ToolCall | None:
        """The tool call a typed phrase stands for: "Go to line 5." as "go to line five"."""
        # Sentence punctuation is not part of a command; a "." inside a word is ("main.py").
        words = spoken_words(_SENTENCE_PUNCTUATION.sub(" ", text))
        return self.parse(" ".join(words)) if words else None


def _command(tool: Mapping[str, Any]) -> _Command | None:
    name = tool.get("name")
    if tool.get("type") not in (None, "function") or not isinstance(name, str):
        return None
    phrase = _name_words(name)
    if phrase is None or not _sayable(phrase):
        return None
    parts: list[_Part] = [_Words(phrase)]
    if phrase[-1] in _OPTIONAL_OBJECTS:
        parts.append(_Words((_OPTIONAL_OBJECTS[phrase[-1]],), optional=True))
    parameters = tool.get("parameters") or {}
    properties = parameters.get("properties") or {}
    for param in parameters.get("required") or []:
        part = _parameter(param, properties.get(param) or {})
        if part is None:
            return None
        parts.append(part)
    return _Command(name, tuple(parts))


def _parameter(param: str, schema: Mapping[str, Any]) -> _Part | None:
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return _Number(param, schema.get("minimum"), schema.get("maximum"))
    if kind != "string":
        return None
    spoken: dict[tuple[str, ...], Any] = {}
    for value in schema.get("enum") or schema.get("examples") or []:
        words = spoken_words(value) if isinstance(value, str) else None
        if words is not None and _sayable(words):
            spoken.setdefault(words, value)  # the first value wins when two sound the same
    return _Choice(param, spoken) if spoken else None


def _sayable(words: Iterable[str]) -> bool:
    return all(pronunciation.is_known(word) or pronunciation.derive_phones(word) is not None for word in words)


def _phones(word: str) -> str:
    phones = pronunciation.derive_phones(word)
    assert phones is not None, f"{word!r} passed _sayable"
    return phones


def _render(commands: Sequence[_Command]) -> str:
    if not commands:
        return ""
    phrases = " | ".join(command.jsgf() for command in commands)
    return "\n".join(
        [
            "#JSGF V1.0;",
            f"grammar {GRAMMAR_NAME};",
            f"<unit> = {' | '.join(numbers.UNITS)};",
            f"<teen> = {' | '.join(numbers.TEENS)};",
            f"<tens> = {' | '.join(numbers.TENS)};",
            "<below_hundred> = <unit> | <teen> | <tens> [<unit>];",
            f"<number> = {numbers.ZERO} | <below_hundred>"
            f" | <unit> {numbers.HUNDRED} [[{numbers.AND}] <below_hundred>];",
            f"public <command> = [{POLITE_PREFIX}] ({phrases});",
            "",
        ]
    )


def _name_words(name: str) -> tuple[str, ...] | None:
    """``go_to_line`` / ``goToLine`` / ``go-to-line`` -> ("go", "to", "line"); None if not all letters."""
    words = tuple(word.lower() for part in re.split(r"[_\-]+", name) for word in _CAMEL_BOUNDARY.split(part) if word)
    return words if words and all(word.isalpha() and word.isascii() for word in words) else None


def spoken_words(value: str) -> tuple[str, ...] | None:
    """How a value is said: "main.py" -> ("main", "dot", "py"); None if it has unsayable parts."""
    words: list[str] = []
    for token in _TOKEN.findall(value.lower()):
        if token.isalpha():
            words.append(token)
        elif token.isdigit():
            if int(token) > numbers.LARGEST:
                return None
            words += numbers.number_to_words(int(token)).split()
        elif token in _SYMBOL_WORDS:
            words.append(_SYMBOL_WORDS[token])
        else:
            return None
    return tuple(words) or None
