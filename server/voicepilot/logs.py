"""What leaves the process as text: the secrets it holds redacted, and logging to stderr only.

A secret (the editor's API key, a minted ephemeral key, an Entra token, the local engine's key) is
registered when it arrives; from then on any run of ``WINDOW`` or more of its characters becomes
``<redacted>``, so a partial echo (a validation error's input, a service's error body) is caught
too. The log handler, the sidecar's stdout writer and ``voicepilot talk``'s output use it. Logs go
to stderr (stdout is the JSON-RPC channel); the filter is the second line of defence, for
exceptions and third-party messages that might echo a request back.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

REDACTED = "<redacted>"
# A secret's runs this long or longer count as the secret. Shorter secrets are matched whole.
WINDOW = 8
# A scan first looks up every STRIDE-th run of PROBE characters: any run of WINDOW characters holds
# one, so a text without a probe hit (nearly every message) holds no secret, for a quarter of the
# lookups (measured: 7 us against 47 us for a 300-character notification, with 18 secrets held).
STRIDE = 4
PROBE = WINDOW - STRIDE + 1
MIN_SECRET = 6
# Ephemeral keys are minted every renewal (about a minute): only the newest are worth keeping.
TRANSIENT_KEPT = 16


@dataclass(frozen=True)
class _Table:
    """What a scan needs, swapped whole on registration so that readers never take the lock."""

    windows: frozenset[str]
    probes: frozenset[str]
    short: tuple[str, ...]


def _forms(secret: str) -> set[str]:
    # Serialised JSON escapes some characters: scanning a message's text must find those forms too.
    return {secret, json.dumps(secret)[1:-1]}


def _build(secrets: list[str]) -> _Table:
    windows: set[str] = set()
    probes: set[str] = set()
    short: set[str] = set()
    for secret in secrets:
        for form in _forms(secret):
            if len(form) < WINDOW:
                short.add(form)
            else:
                windows.update(_runs(form, WINDOW))
                probes.update(_runs(form, PROBE))
    return _Table(frozenset(windows), frozenset(probes), tuple(sorted(short, key=len, reverse=True)))


def _runs(text: str, length: int, step: int = 1) -> list[str]:
    return [text[i : i + length] for i in range(0, len(text) - length + 1, step)]


class Redactor:
    def __init__(self, transient_kept: int = TRANSIENT_KEPT) -> None:
        self._lock = threading.Lock()
        self._permanent: dict[str, None] = {}
        self._transient: OrderedDict[str, None] = OrderedDict()
        self._transient_kept = transient_kept
        self._table = _Table(frozenset(), frozenset(), ())

    def register(self, value: str, transient: bool = False) -> None:
        """From now on ``value`` (and any 8-character run of it) is redacted. ``transient``: one of
        many short-lived values (ephemeral keys), of which only the newest few are kept."""
        if len(value) < MIN_SECRET:
            return
        with self._lock:
            if value in self._permanent or value in self._transient:
                return
            if transient:
                self._transient[value] = None
                while len(self._transient) > self._transient_kept:
                    self._transient.popitem(last=False)
            else:
                self._permanent[value] = None
            self._table = _build([*self._permanent, *self._transient])

    def _spans(self, text: str) -> list[tuple[int, int]]:
        table = self._table
        if not table.probes or table.probes.isdisjoint(_runs(text, PROBE, STRIDE)):
            return []
        windows = table.windows
        hits = [i for i in range(len(text) - WINDOW + 1) if text[i : i + WINDOW] in windows]
        spans: list[tuple[int, int]] = []
        for i in hits:
            if spans and i <= spans[-1][1]:
                spans[-1] = (spans[-1][0], i + WINDOW)
            else:
                spans.append((i, i + WINDOW))
        return spans

    def contains(self, text: str) -> bool:
        """Whether ``text`` holds a secret or a run of one (cheap: a set lookup every STRIDE characters)."""
        return bool(self._spans(text)) or any(secret in text for secret in self._table.short)

    def redact(self, text: str) -> str:
        spans = self._spans(text)
        if spans:
            parts: list[str] = []
            at = 0
            for start, end in spans:
                parts += [text[at:start], REDACTED]
                at = end
            parts.append(text[at:])
            text = "".join(parts)
        for secret in self._table.short:
            text = text.replace(secret, REDACTED)
        return text

    def redact_json(self, value: Any) -> Any:
        """``value`` (parsed JSON) with every string redacted, keys included."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        return value


# The process's own: the log handler and the stdout writer share it.
held = Redactor()


def register_secret(value: str, transient: bool = False) -> None:
    held.register(value, transient)


def redact(text: str) -> str:
    return held.redact(text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def configure(level: str = "INFO", timestamps: bool = True) -> None:
    """``timestamps=False`` for the sidecar: the editor's log channel stamps each line itself."""
    handler = logging.StreamHandler(sys.stderr)
    prefix = "%(asctime)s " if timestamps else ""
    handler.setFormatter(logging.Formatter(prefix + "%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pygls logs whole message bodies at DEBUG/INFO, and setCredentials carries a key.
    logging.getLogger("pygls").setLevel(logging.WARNING)
    for noisy in ("aioice", "aiortc", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
