"""Settings values: any ConnectionSettings give an Endpoint that keeps to the allowlist, or a CONFIG
error that names the setting; never another exception."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from voicepilot.contract.models import ConnectionSettings, Profile
from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime.endpoints import AZURE_HOST_SUFFIXES, Endpoint, is_loopback_url, resolve_endpoint

hosts = st.one_of(
    st.sampled_from(
        [
            "res.openai.azure.com",
            "res.cognitiveservices.azure.com",
            "api.openai.com",
            "127.0.0.1:8787",
            "localhost",
            "[::1]:9",
            "evil.example",
            "res.openai.azure.com.evil.example",
            "res.openai.azure.com@evil.example",
            "evil.example#res.openai.azure.com",
            "",
        ]
    ),
    st.text(max_size=30),
)
urls = st.one_of(
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        st.sampled_from(["https://", "http://", "ws://", "", "ftp://", "HTTPS://"]),
        hosts,
        st.sampled_from(["", "/", "/openai", "/?x=1", "/../.."]),
    ),
    st.text(max_size=40),
)
maybe_text = st.one_of(st.none(), st.text(max_size=20))
settings = st.builds(
    ConnectionSettings,
    endpoint=st.one_of(st.none(), urls),
    deployment=maybe_text,
    api_version=maybe_text,
    api_flavor=st.one_of(st.none(), st.sampled_from(["ga", "preview"])),
    region=st.one_of(
        st.none(), st.sampled_from(["eastus2", "swedencentral", "East US 2", "westus", ""]), st.text(max_size=15)
    ),
    allowed_regions=st.one_of(
        st.none(),
        st.lists(
            st.one_of(st.sampled_from(["eastus2", "westus", " Sweden Central "]), st.text(max_size=12)), max_size=3
        ),
    ),
)
profiles: st.SearchStrategy[Profile] = st.sampled_from(["local", "azure", "openai"])


def allowed_host(endpoint: Endpoint, url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if is_loopback_url(url):
        return True
    if endpoint.profile == "azure":
        return host.endswith(AZURE_HOST_SUFFIXES) or host.endswith(".realtimeapi-preview.ai.azure.com")
    return endpoint.profile == "openai"


@given(profile=profiles, connection=settings, local_url=st.one_of(st.none(), urls))
def test_settings_resolve_or_name_the_setting(
    profile: Profile, connection: ConnectionSettings, local_url: str | None
) -> None:
    refused: VoicePilotError | None = None
    try:
        endpoint = resolve_endpoint(profile, connection, local_url=local_url)
    except VoicePilotError as error:
        refused = error
    if refused is not None:
        assert refused.kind is ErrorKind.CONFIG
        assert "voicepilot." in refused.describe()  # names the setting to fix
        return
    for url in (endpoint.mint_url, endpoint.calls_url, endpoint.websocket_url):
        scheme = urlsplit(url).scheme
        # Plain http (or ws) only to this machine: a key never crosses a network in the clear.
        assert scheme in ("https", "wss") or is_loopback_url(url), url
        assert allowed_host(endpoint, url), url
    if profile == "local":
        assert endpoint.loopback
