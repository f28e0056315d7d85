"""Good and bad endpoints for every profile, table-driven."""

from __future__ import annotations

import pytest

from voicepilot.contract.models import ConnectionSettings
from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime.endpoints import resolve_endpoint

GOOD = [
    (
        "local",
        {},
        "http://127.0.0.1:9000/openai/v1/realtime/client_secrets",
        "http://127.0.0.1:9000/openai/v1/realtime/calls",
    ),
    (
        "local",
        {"api_flavor": "preview", "deployment": "dep"},
        "http://127.0.0.1:9000/openai/realtimeapi/sessions?api-version=2025-04-01-preview",
        "http://127.0.0.1:9000/v1/realtimertc?model=dep",
    ),
    (
        "azure",
        {"endpoint": "https://res.openai.azure.com/", "deployment": "gpt-realtime"},
        "https://res.openai.azure.com/openai/v1/realtime/client_secrets",
        "https://res.openai.azure.com/openai/v1/realtime/calls",
    ),
    (
        "azure",
        {"endpoint": "https://res.cognitiveservices.azure.com"},
        "https://res.cognitiveservices.azure.com/openai/v1/realtime/client_secrets",
        "https://res.cognitiveservices.azure.com/openai/v1/realtime/calls",
    ),
    (
        "azure",
        {
            "endpoint": "https://res.openai.azure.com",
            "api_flavor": "preview",
            "region": "swedencentral",
            "deployment": "d1",
            "api_version": "2025-04-01-preview",
        },
        "https://res.openai.azure.com/openai/realtimeapi/sessions?api-version=2025-04-01-preview",
        "https://swedencentral.realtimeapi-preview.ai.azure.com/v1/realtimertc?model=d1",
    ),
    ("openai", {}, "https://api.openai.com/v1/realtime/client_secrets", "https://api.openai.com/v1/realtime/calls"),
    (
        "azure",
        {
            "endpoint": "https://res.openai.azure.com",
            "api_flavor": "preview",
            "region": "West US",
            "allowed_regions": ["East US 2", "westus"],
        },
        "https://res.openai.azure.com/openai/realtimeapi/sessions?api-version=2025-04-01-preview",
        "https://westus.realtimeapi-preview.ai.azure.com/v1/realtimertc?model=gpt-realtime",
    ),
]

BAD = [
    ("azure", {}, "voicepilot.azure.endpoint is empty"),
    ("azure", {"endpoint": "http://res.openai.azure.com"}, "plain http"),
    ("azure", {"endpoint": "https://evil.example.com"}, "not an Azure OpenAI resource"),
    ("azure", {"endpoint": "https://res.openai.azure.com.evil.example"}, "not an Azure OpenAI resource"),
    ("azure", {"endpoint": "res.openai.azure.com"}, "is not a URL"),
    ("azure", {"endpoint": "https://res.openai.azure.com", "api_flavor": "preview"}, "azure.region is empty"),
    ("azure", {"endpoint": "https://res.openai.azure.com", "api_flavor": "preview", "region": "westus"}, "westus"),
    ("openai", {"endpoint": "http://api.example.com"}, "plain http"),
    ("local", {"endpoint": "ftp://127.0.0.1"}, "is not a URL"),
    # The local profile sends the stored key too: only to this machine.
    ("local", {"endpoint": "https://evil.example"}, "voicepilot.local.url ('https://evil.example') is not on this"),
    ("local", {"endpoint": "https://0"}, "is not on this machine"),
    ("local", {"endpoint": "https://127.0.0.1.evil.example"}, "is not on this machine"),
    ("azure", {"endpoint": "https://[res.openai.azure.com"}, "is not a URL"),
]


@pytest.mark.parametrize(("profile", "settings", "mint", "calls"), GOOD)
def test_good_endpoints(profile: str, settings: dict[str, str], mint: str, calls: str) -> None:
    endpoint = resolve_endpoint(profile, ConnectionSettings(**settings), local_url="http://127.0.0.1:9000")  # type: ignore[arg-type]
    assert (endpoint.mint_url, endpoint.calls_url) == (mint, calls)
    assert endpoint.loopback == (profile == "local")


@pytest.mark.parametrize(("profile", "settings", "message"), BAD)
def test_bad_endpoints_are_config_errors(profile: str, settings: dict[str, str], message: str) -> None:
    with pytest.raises(VoicePilotError) as error:
        resolve_endpoint(profile, ConnectionSettings(**settings), local_url="http://127.0.0.1:9000")  # type: ignore[arg-type]
    assert error.value.kind is ErrorKind.CONFIG
    assert message in error.value.describe()
