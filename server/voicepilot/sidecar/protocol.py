"""Keep our methods' params as plain JSON.

pygls turns the params of methods it does not know into namedtuples, renaming any key that is
not a Python identifier (``$schema`` in a tool's JSON schema, say). Our handlers validate with
pydantic instead, so they want the JSON exactly as sent. LSP's own methods are unaffected: they
have lsprotocol types of their own.
"""

from __future__ import annotations

from typing import Any

import cattrs
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    default_converter,
)


def _as_is(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(**obj)


def raw_params_converter() -> cattrs.Converter:
    converter: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    for message in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(message, _as_is)
    return converter
