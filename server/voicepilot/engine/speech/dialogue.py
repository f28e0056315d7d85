"""What the local engine says back: deterministic, short replies standing in for the model.

A recognised command is answered with its function call and no speech, as the service does;
anything else is echoed back. After the client returns a function's output, the engine confirms
the action or says that it failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from voicepilot.engine.speech.grammar import ToolCall
from voicepilot.engine.speech.stt import Recognition

NOT_UNDERSTOOD = "I didn't catch that."
_MAX_ERROR_CHARS = 120  # a reply is spoken: keep a long error message from droning on


@dataclass(frozen=True)
class Reply:
    text: str
    tool_call: ToolCall | None


def reply_for_user_turn(recognition: Recognition) -> Reply:
    if recognition.tool_call is not None:
        return Reply("", recognition.tool_call)
    if not recognition.text:
        return Reply(NOT_UNDERSTOOD, None)
    return Reply(f"You said: {recognition.text}.", None)


def reply_for_tool_output(name: str, arguments: dict[str, Any], output: str) -> str:
    """A confirmation ("Done: go to line 42.") or a failure notice, from the tool's output JSON."""
    action = " ".join([*name.replace("-", "_").split("_"), *(str(value) for value in arguments.values())]).strip()
    error = _error_in(output)
    if error is None:
        return f"Done: {action}."
    if not error:
        return f"Sorry, {action} failed."
    if len(error) > _MAX_ERROR_CHARS:
        error = error[:_MAX_ERROR_CHARS].rsplit(" ", 1)[0] + "..."
    return f"Sorry, {action} failed: {error.rstrip('.')}."


def _error_in(output: str) -> str | None:
    """The error a tool reported (``""`` when it failed without saying why), or ``None`` on success.

    Editor tools answer with a JSON object: ``{"ok": false, "error": "..."}`` or any object with an
    ``error`` member means failure. Output that is not JSON is taken as a success message.
    """
    try:
        result = json.loads(output)
    except ValueError:
        return None
    if not isinstance(result, dict):
        return None
    error = result.get("error")
    if result.get("ok") is not False and not error:
        return None
    if isinstance(error, dict):
        error = error.get("message")
    return str(error) if error else ""
