"""Redaction: any run of 8 or more characters of a held secret goes, in text and in JSON; cheaply."""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time

import pytest

from voicepilot.logs import REDACTED, RedactingFilter, Redactor, held


@pytest.fixture
def key() -> str:
    return "vpcanary" + secrets.token_hex(16)


def test_the_whole_secret_and_any_run_of_eight_or_more_of_it(key: str) -> None:
    table = Redactor()
    table.register(key)
    assert table.redact(f"key={key}!") == f"key={REDACTED}!"
    # Truncated the way pydantic and services truncate: a head and a tail around an ellipsis.
    assert table.redact(f"'{key[:24]}...{key[-24:]}'") == f"'{REDACTED}...{REDACTED}'"
    assert table.redact(f"x{key[5:13]}y") == f"x{REDACTED}y"
    # Seven characters are not the secret: they could be anything.
    assert table.redact(f"x{key[5:12]}y") == f"x{key[5:12]}y"
    assert not table.contains(f"x{key[5:12]}y")
    assert table.contains(f"x{key[5:13]}y")


def test_short_secrets_match_whole_and_tiny_ones_are_ignored() -> None:
    table = Redactor()
    table.register("abc1234")  # 7 characters: matched whole only
    table.register("abc")  # too short to be told from ordinary text
    assert table.redact("abc1234 abc123 abc") == f"{REDACTED} abc123 abc"


def test_only_the_newest_transient_secrets_are_kept() -> None:
    table = Redactor(transient_kept=2)
    keys = ["ek_" + secrets.token_hex(8) for _ in range(3)]
    for key in keys:
        table.register(key, transient=True)
    assert table.redact(keys[0]) == keys[0]
    assert table.redact(keys[1]) == REDACTED
    assert table.redact(keys[2]) == REDACTED


def test_json_is_redacted_string_by_string_and_stays_valid() -> None:
    table = Redactor()
    key = 'k"ey\\with' + secrets.token_hex(8)  # characters JSON escapes
    table.register(key)
    message = {"error": {"message": f"bad key {key}", "data": [key[:10]]}, key: 1}
    text = json.dumps(message)
    assert table.contains(text)  # the escaped form is found in the serialised text
    assert table.redact_json(json.loads(text)) == {
        "error": {"message": f"bad key {REDACTED}", "data": [REDACTED]},
        REDACTED: 1,
    }


def test_the_log_filter_redacts_messages_arguments_and_tracebacks(key: str) -> None:
    held.register(key)  # the process's own, which the log handler uses
    try:
        raise ValueError(f"input_value='{key[:20]}...'")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", (key,), sys.exc_info())
    RedactingFilter().filter(record)
    assert record.getMessage() == f"got {REDACTED}"
    assert record.exc_text is not None
    assert key[:8] not in record.exc_text
    assert REDACTED in record.exc_text


def test_a_scan_is_cheap() -> None:
    """A notification is scanned on its way out: with 18 secrets held, a 300-character message
    takes about 7 us here (a lookup every 4 characters). The bound leaves room for a busy machine."""
    table = Redactor()
    table.register(secrets.token_hex(16))
    table.register(secrets.token_urlsafe(24))
    for _ in range(16):
        table.register("ek_" + secrets.token_hex(20), transient=True)
    message = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "voicepilot/audioLevel",
            "params": {"sessionId": "vp_0123456789ab", "inputDbfs": -42.1, "inputDevice": "virtual mic " * 10},
        }
    )
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        table.contains(message)
    per_scan_us = (time.perf_counter() - started) / runs * 1e6
    assert per_scan_us < 100, per_scan_us
