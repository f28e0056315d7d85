from typing import Any

import pytest

from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.engine.speech.grammar import CommandGrammar, ToolCall, spoken_words
from voicepilot.engine.speech.pronunciation import derive_phones, is_known


@pytest.fixture(scope="module")
def grammar() -> CommandGrammar:
    return CommandGrammar.from_tools([tool.model_dump() for tool in EDITOR_TOOLS])


def tool(name: str, properties: dict[str, Any] | None = None, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": "",
        "parameters": {"type": "object", "properties": properties or {}, "required": required or []},
    }


def test_every_editor_tool_has_a_phrase(grammar: CommandGrammar) -> None:
    assert grammar.skipped_tools == ()
    for phrase in [
        "go to line <number>",
        "open file (main dot py | setup dot py",
        "find in workspace (config | todo",
        "run command (format document | toggle terminal",
        "insert text (hello world | todo)",
        "save all [files]",
        "explain selection",
        "public <command> = [please] (",
    ]:
        assert phrase in grammar.jsgf


def test_out_of_dictionary_words_come_with_phones(grammar: CommandGrammar) -> None:
    assert grammar.extra_words["py"] == "P AY"
    assert set(grammar.extra_words) == {"py", "json", "readme", "config"}
    assert not any(is_known(word) for word in grammar.extra_words)


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("go to line forty two", ToolCall("go_to_line", {"line": 42})),
        ("go to line one hundred five", ToolCall("go_to_line", {"line": 105})),
        ("open file main dot py", ToolCall("open_file", {"path": "main.py"})),
        ("open file readme dot md", ToolCall("open_file", {"path": "readme.md"})),
        ("open file index dot ts", ToolCall("open_file", {"path": "index.ts"})),
        ("run command format document", ToolCall("run_command", {"command": "format document"})),
        ("find in workspace todo", ToolCall("find_in_workspace", {"query": "todo"})),
        ("insert text hello world", ToolCall("insert_text", {"text": "hello world"})),
        ("save all", ToolCall("save_all", {})),
        ("save all files", ToolCall("save_all", {})),
        ("please explain selection", ToolCall("explain_selection", {})),
    ],
)
def test_parse_maps_phrases_back_to_calls(grammar: CommandGrammar, text: str, call: ToolCall) -> None:
    assert grammar.parse(text) == call


@pytest.mark.parametrize(
    "text",
    [
        "",
        "go to line",  # a partial hypothesis
        "go to line zero",  # below the schema's minimum of 1
        "go to line forty two please",
        "open file main dot",
        "run command dance",
        "hello can you hear me",
    ],
)
def test_parse_rejects_what_is_not_a_whole_command(grammar: CommandGrammar, text: str) -> None:
    assert grammar.parse(text) is None


def test_parameters_follow_the_required_order() -> None:
    grammar = CommandGrammar.from_tools(
        [
            tool(
                "move_cursor",
                {"line": {"type": "integer"}, "column": {"type": "integer", "maximum": 80}},
                ["line", "column"],
            )
        ]
    )
    assert "move cursor <number> <number>" in grammar.jsgf
    assert grammar.parse("move cursor forty two seven") == ToolCall("move_cursor", {"line": 42, "column": 7})
    # the only split into two numbers is "one hundred" + "five"
    assert grammar.parse("move cursor one hundred five") == ToolCall("move_cursor", {"line": 100, "column": 5})
    assert grammar.parse("move cursor three ninety") is None  # column 90 > maximum


def test_unsupported_tools_are_left_out() -> None:
    grammar = CommandGrammar.from_tools(
        [
            tool("rename_symbol", {"new_name": {"type": "string"}}, ["new_name"]),  # free text, no examples
            tool("toggle_wrap", {"on": {"type": "boolean"}}, ["on"]),
            tool("open_file", {"path": {"type": "string", "examples": ["ünïcode.py"]}}, ["path"]),
            tool("xqzvkw_go"),  # unpronounceable name
            tool("set_mode", {"mode": {"type": "string", "enum": ["vim", "emacs"]}}, ["mode"]),
            {"type": "mcp", "name": "remote"},
        ]
    )
    assert grammar.skipped_tools == ("rename_symbol", "toggle_wrap", "open_file", "xqzvkw_go", "remote")
    assert "set mode (vim | emacs)" in grammar.jsgf
    assert grammar.parse("set mode emacs") == ToolCall("set_mode", {"mode": "emacs"})


def test_optional_parameters_are_not_spoken() -> None:
    grammar = CommandGrammar.from_tools([tool("close_editor", {"force": {"type": "boolean"}}, [])])
    assert grammar.parse("close editor") == ToolCall("close_editor", {})


def test_no_expressible_tool_gives_an_empty_grammar() -> None:
    grammar = CommandGrammar.from_tools([tool("rename", {"to": {"type": "string"}}, ["to"])])
    assert grammar.jsgf == ""
    assert grammar.parse("rename") is None


def test_camel_case_and_dashed_names_are_split() -> None:
    grammar = CommandGrammar.from_tools([tool("newTerminal"), tool("close-panel")])
    assert grammar.parse("new terminal") == ToolCall("newTerminal", {})
    assert grammar.parse("close panel") == ToolCall("close-panel", {})


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("main.py", ("main", "dot", "py")),
        ("README.md", ("readme", "dot", "md")),
        ("src/app_2.ts", ("src", "slash", "app", "underscore", "two", "dot", "ts")),
        ("format document", ("format", "document")),
        ("a+b", None),
        ("file1234", None),
    ],
)
def test_spoken_words(value: str, words: tuple[str, ...] | None) -> None:
    assert spoken_words(value) == words


def test_derived_phones_for_out_of_dictionary_words() -> None:
    assert derive_phones("py") == "P AY"
    assert derive_phones("js") == "JH EY EH S"  # spelled out
    assert derive_phones("dataset") is not None  # two dictionary words run together
    assert derive_phones("qxvzrt") is None
