"""JSON-RPC params against the contract: any params give the model, or an "invalid params" error
that names the problem; never another exception (the sidecar then answers -32603 and logs a trace)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygls.exceptions import JsonRpcInvalidParams

from tests.fuzz.strategies import json_values, objects_with
from voicepilot.contract import models as contract
from voicepilot.contract.models import WireModel
from voicepilot.sidecar.server import validate

# Every request the editor sends, and the one answer the sidecar validates (runTool's).
MODELS: list[type[WireModel]] = [
    contract.StartSessionParams,
    contract.EndSessionParams,
    contract.PushToTalkParams,
    contract.SetCredentialsParams,
    contract.RunDiagnosticsParams,
    contract.ListDevicesParams,
    contract.SelectDevicesParams,
    contract.SetMuteParams,
    contract.RunToolResult,
    contract.ConnectionSettings,
]


def wire_keys(model: type[WireModel]) -> list[str]:
    return sorted(field.alias or name for name, field in model.model_fields.items())


def nested_values() -> st.SearchStrategy[Any]:
    """Values that reach nested models: inputs, outputs, tools and connection settings."""
    connection = objects_with(wire_keys(contract.ConnectionSettings))
    tool = objects_with(["name", "description", "parameters"])
    source = st.fixed_dictionaries(
        {"kind": st.sampled_from(["file", "device", "none", "x"])},
        optional={"path": json_values, "name": json_values},
    )
    return st.one_of(json_values, connection, source, st.lists(tool, max_size=3))


def check(model: type[WireModel], params: Any) -> None:
    refused: JsonRpcInvalidParams | None = None
    try:
        parsed = validate(model, params)
    except JsonRpcInvalidParams as error:
        refused = error
    if refused is not None:
        assert model.__name__ in str(refused)
        return
    assert isinstance(parsed, model)
    # What was accepted serialises (camelCase) to something the model accepts again.
    assert model.model_validate(parsed.model_dump(by_alias=True, mode="json")) == parsed


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@given(params=json_values)
def test_any_json_as_params(model: type[WireModel], params: Any) -> None:
    check(model, params)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=60)
@given(data=st.data())
def test_objects_shaped_like_the_params(model: type[WireModel], data: st.DataObject) -> None:
    keys = wire_keys(model) or ["unexpected"]
    values = nested_values() if model is contract.StartSessionParams else json_values
    check(model, data.draw(objects_with(keys, values)))
