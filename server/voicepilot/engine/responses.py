"""How the engine ends responses as strictly as the service: the refusal of a second response,
failed and incomplete endings on demand, and the usage every ``response.done`` carries.

The shapes follow the service's: a refusal is an ``error`` event with code
``conversation_already_has_active_response``; a failed response carries
``status_details {type: "failed", error {type, code, message}}``, an incomplete one
``status_details {type: "incomplete", reason}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FailureKind = Literal["quota", "rate_limit", "server", "content_filter"]


def active_response_message(response_id: str | None) -> str:
    active = f": {response_id}" if response_id else ""
    return (
        f"Conversation already has an active response in progress{active}. "
        "Wait until the response is finished before creating a new one."
    )


@dataclass(frozen=True)
class Ending:
    """How a response ends: ``response.done``'s status and status_details."""

    status: Literal["completed", "cancelled", "failed", "incomplete"]
    details: dict[str, Any] | None = None


COMPLETED = Ending("completed")

_FAILURES: dict[FailureKind, Ending] = {
    "quota": Ending(
        "failed",
        {
            "type": "failed",
            "error": {
                "type": "insufficient_quota",
                "code": "insufficient_quota",
                "message": "You exceeded your current quota, please check your plan and billing details.",
            },
        },
    ),
    "rate_limit": Ending(
        "failed",
        {
            "type": "failed",
            "error": {
                "type": "rate_limit_exceeded",
                "code": "rate_limit_exceeded",
                "message": "Rate limit reached for requests. Please try again in 20s.",
            },
        },
    ),
    "server": Ending(
        "failed",
        {
            "type": "failed",
            "error": {
                "type": "server_error",
                "code": "server_error",
                "message": "The server had an error while processing your request. Sorry about that!",
            },
        },
    ),
    "content_filter": Ending("incomplete", {"type": "incomplete", "reason": "content_filter"}),
}


def failure(kind: FailureKind) -> Ending:
    return _FAILURES[kind]


def usage(output: list[dict[str, Any]], input_items: int) -> dict[str, Any]:
    """A plausible ``usage`` block: the counts are made up, the shape is the service's."""
    output_tokens = sum(len(str(item.get("arguments", ""))) // 4 + 10 for item in output)
    input_tokens = 100 + 20 * input_items
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {"text_tokens": input_tokens, "audio_tokens": 0, "cached_tokens": 0},
        "output_token_details": {"text_tokens": output_tokens, "audio_tokens": 0},
    }
