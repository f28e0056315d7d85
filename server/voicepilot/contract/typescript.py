"""Generate the TypeScript mirror of :mod:`voicepilot.contract.models`.

The pydantic models are the single definition; ``extension/src/contract.ts`` is their output,
committed so the extension builds without Python, and checked by a test to be current.
Run ``voicepilot contract-ts > extension/src/contract.ts`` after changing the contract.
"""

from __future__ import annotations

from typing import Any

from voicepilot.contract import models as contract

HEADER = """\
// Generated from server/voicepilot/contract.py by `voicepilot contract-ts`. Do not edit by hand:
// change the pydantic models and regenerate (a test fails when this file is stale).
/* eslint-disable */
"""


def _ts_type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1])
    if "const" in schema:
        return _literal(schema["const"])
    if "enum" in schema:
        return " | ".join(_literal(v) for v in schema["enum"])
    for union_key in ("anyOf", "oneOf"):
        if union_key in schema:
            parts = [_ts_type(s, defs) for s in schema[union_key]]
            return " | ".join(dict.fromkeys(parts))
    kind = schema.get("type")
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "array":
        item = _ts_type(schema.get("items", {}), defs)
        return f"Array<{item}>"
    if kind == "object":
        extra = schema.get("additionalProperties")
        value = _ts_type(extra, defs) if isinstance(extra, dict) and extra else "unknown"
        return f"Record<string, {value}>"
    return "unknown"


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def _interface(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    lines = [f"export interface {name} {{"]
    for prop, prop_schema in schema.get("properties", {}).items():
        # An optional field that may be null is just optional on the TS side: the sidecar omits
        # None values on the wire (WireModel.wire).
        if prop not in required and "anyOf" in prop_schema:
            non_null = [s for s in prop_schema["anyOf"] if s.get("type") != "null"]
            prop_schema = non_null[0] if len(non_null) == 1 else {"anyOf": non_null}
        optional = "" if prop in required else "?"
        lines.append(f"  {prop}{optional}: {_ts_type(prop_schema, defs)};")
    lines.append("}")
    return "\n".join(lines)


def generate() -> str:
    out = [HEADER]
    out.append("export const Methods = {")
    names = {
        "startSession": contract.START_SESSION,
        "endSession": contract.END_SESSION,
        "pushToTalk": contract.PUSH_TO_TALK,
        "setCredentials": contract.SET_CREDENTIALS,
        "runDiagnostics": contract.RUN_DIAGNOSTICS,
        "connectionState": contract.CONNECTION_STATE,
        "transcript": contract.TRANSCRIPT,
        "diagnostics": contract.DIAGNOSTICS,
        "runTool": contract.RUN_TOOL,
        "listDevices": contract.LIST_DEVICES,
        "selectDevices": contract.SELECT_DEVICES,
        "setMute": contract.SET_MUTE,
        "audioLevel": contract.AUDIO_LEVEL,
        "deviceState": contract.DEVICE_STATE,
        "sendText": contract.SEND_TEXT,
    }
    out.extend(f'  {key}: "{value}",' for key, value in names.items())
    out.append("} as const;\n")
    state_values = contract.ConnectionStateParams.model_json_schema()["properties"]["state"]["enum"]
    out.append("export const CONNECTION_STATES = [" + ", ".join(_literal(s) for s in state_values) + "] as const;")
    out.append("export type ConnectionState = (typeof CONNECTION_STATES)[number];\n")
    for model in contract.CONTRACT_MODELS:
        schema = model.model_json_schema(by_alias=True)
        defs = schema.get("$defs", {})
        out.append(_interface(model.__name__, schema, defs))
        out.append("")
    out.append("export type AudioInput = DeviceInput | FileInput;")
    out.append("export type AudioOutput = DeviceOutput | NoOutput;")
    return "\n".join(out) + "\n" + generate_tools()


def generate_tools() -> str:
    """The editor's tool declarations as a TypeScript constant."""
    import json

    from voicepilot.contract.tools import EDITOR_TOOLS

    payload = json.dumps([tool.wire() for tool in EDITOR_TOOLS], indent=2)
    return f"\nexport const EDITOR_TOOLS: ReadonlyArray<ToolSpec> = {payload};\n"
