"""The voices each API flavour offers, and the voice a session asks for.

The preview (beta) API has eight voices; GA adds ``marin`` and ``cedar`` and recommends them. A
voice the flavour does not have would fail the session, so it is replaced by the flavour's default.
"""

from __future__ import annotations

import logging
from typing import Literal

log = logging.getLogger(__name__)

PREVIEW_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")
GA_VOICES = (*PREVIEW_VOICES, "marin", "cedar")
DEFAULT_VOICES = {"ga": "marin", "preview": "alloy"}


def voices_of(flavor: Literal["ga", "preview"]) -> tuple[str, ...]:
    return GA_VOICES if flavor == "ga" else PREVIEW_VOICES


def voice_for(flavor: Literal["ga", "preview"], wanted: str | None) -> str:
    """``wanted`` when the flavour has it, else its default (None: the default)."""
    if wanted is None:
        return DEFAULT_VOICES[flavor]
    if wanted in voices_of(flavor):
        return wanted
    default = DEFAULT_VOICES[flavor]
    log.warning("the %s API has no voice %r; using %r", flavor, wanted, default)
    return default
