import pytest

from voicepilot.engine.speech.dialogue import NOT_UNDERSTOOD, Reply, reply_for_tool_output, reply_for_user_turn
from voicepilot.engine.speech.grammar import ToolCall
from voicepilot.engine.speech.stt import Recognition


def test_a_command_is_answered_with_its_call_and_no_speech() -> None:
    call = ToolCall("go_to_line", {"line": 42})
    reply = reply_for_user_turn(Recognition("go to line forty two", call, 0.98, "grammar"))
    assert reply == Reply("", call)


def test_free_speech_is_echoed() -> None:
    reply = reply_for_user_turn(Recognition("hello can you hear me", None, 0.9, "free"))
    assert reply == Reply("You said: hello can you hear me.", None)


def test_nothing_heard() -> None:
    assert reply_for_user_turn(Recognition("", None, 0.0, "free")) == Reply(NOT_UNDERSTOOD, None)


@pytest.mark.parametrize(
    ("name", "arguments", "output", "expected"),
    [
        ("go_to_line", {"line": 42}, '{"ok": true}', "Done: go to line 42."),
        ("open_file", {"path": "main.py"}, "opened", "Done: open file main.py."),
        ("save_all", {}, '{"ok": true, "saved": 3}', "Done: save all."),
        (
            "open_file",
            {"path": "x.py"},
            '{"ok": false, "error": "No such file."}',
            "Sorry, open file x.py failed: No such file.",
        ),
        ("run_command", {"command": "undo"}, '{"ok": false}', "Sorry, run command undo failed."),
        ("save_all", {}, '{"error": {"message": "disk full"}}', "Sorry, save all failed: disk full."),
    ],
)
def test_tool_output_is_confirmed_or_reported(
    name: str, arguments: dict[str, object], output: str, expected: str
) -> None:
    assert reply_for_tool_output(name, arguments, output) == expected


def test_long_errors_are_shortened() -> None:
    reply = reply_for_tool_output("save_all", {}, '{"ok": false, "error": "' + "word " * 100 + '"}')
    assert reply.startswith("Sorry, save all failed: word word")
    assert len(reply) < 160
