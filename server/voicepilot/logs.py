"""Logging set-up: stderr only (stdout is the JSON-RPC channel), and secrets redacted.

Code never logs a secret on purpose; the redaction filter is the second line of defence, for
exceptions and third-party messages that might echo a request back (:mod:`voicepilot.redaction`
holds the secrets).
"""

from __future__ import annotations

import logging
import sys

from voicepilot.redaction import redact


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
