"""Where a conversation connects and with which credential, from the editor's settings.

The ``local`` profile without a URL starts the local engine (:class:`LocalEngineProcess`) and
uses its key; ``entra`` signs in with Microsoft Entra ID (azure only); otherwise the API key.
"""

from __future__ import annotations

from voicepilot.contract.models import StartSessionParams
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.errors import auth_error, config_error
from voicepilot.realtime.endpoints import Endpoint, resolve_endpoint
from voicepilot.realtime.entra import EntraCredential
from voicepilot.realtime.keys import ApiKeyCredential, Credential


async def resolve(
    params: StartSessionParams, api_key: str | None, engine: LocalEngineProcess
) -> tuple[Endpoint, Credential]:
    connection = params.connection
    if params.profile == "local" and not (connection and connection.endpoint):
        url, credential = await engine.ensure_started()
        return resolve_endpoint("local", connection, local_url=url), credential
    endpoint = resolve_endpoint(params.profile, connection)
    if connection is not None and connection.auth == "entra":
        if params.profile != "azure":
            raise config_error(
                "Microsoft Entra ID sign-in works with the azure profile only.",
                "Set voicepilot.profile to azure, or voicepilot.azure.auth to apiKey.",
            )
        return endpoint, EntraCredential()
    if not api_key:
        raise auth_error(
            f"No API key is set for the {params.profile} profile.",
            "Run 'VoicePilot: Set API Key' (or use the local engine).",
        )
    return endpoint, ApiKeyCredential(api_key)
