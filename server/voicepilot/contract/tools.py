"""The function tools the editor carries out, declared once.

The extension implements a handler for each name and sends these specs in
``voicepilot/startSession``; ``voicepilot talk`` uses the same list when no editor is attached.
The TypeScript copy (``EDITOR_TOOLS`` in ``extension/src/contract.ts``) is generated from here.

``examples`` is standard JSON Schema: the service ignores it, and the local engine uses it to
build its command grammar for free-text parameters.
"""

from __future__ import annotations

from voicepilot.contract.models import ToolSpec


def _tool(name: str, description: str, properties: dict[str, object], required: list[str]) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description,
        parameters={"type": "object", "properties": properties, "required": required},
    )


EDITOR_TOOLS: tuple[ToolSpec, ...] = (
    _tool(
        "open_file",
        "Open a file of the workspace in the editor.",
        {
            "path": {
                "type": "string",
                "description": "Workspace-relative path or file name, e.g. main.py",
                "examples": ["main.py", "setup.py", "test.py", "readme.md", "package.json", "index.ts"],
            }
        },
        ["path"],
    ),
    _tool(
        "go_to_line",
        "Move the cursor to a line of the active editor.",
        {"line": {"type": "integer", "minimum": 1, "description": "1-based line number"}},
        ["line"],
    ),
    _tool(
        "find_in_workspace",
        "Search the workspace for text and show the results.",
        {
            "query": {
                "type": "string",
                "description": "Text to search for",
                "examples": ["config", "todo", "main", "test", "error"],
            }
        },
        ["query"],
    ),
    _tool(
        "run_command",
        "Run an allowlisted editor command.",
        {
            "command": {
                "type": "string",
                "description": "Spoken name of the command",
                "enum": ["format document", "toggle terminal", "close editor", "new terminal", "undo"],
            }
        },
        ["command"],
    ),
    _tool(
        "insert_text",
        "Insert text at the cursor as one undoable edit.",
        {"text": {"type": "string", "description": "Text to insert", "examples": ["hello world", "todo"]}},
        ["text"],
    ),
    _tool("save_all", "Save all open files.", {}, []),
    _tool(
        "explain_selection",
        "Return the selected code (or the current line) so the assistant can explain it.",
        {},
        [],
    ),
)
