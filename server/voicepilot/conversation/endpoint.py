"""Where a conversation connects and with which credential, from the editor's settings.

The ``local`` profile without a URL starts the local engine (:class:`LocalEngineProcess`) and
uses its key; ``entra`` signs in with Microsoft Entra ID (azure only); otherwise the API key.
The way there comes along: the ICE servers (with the TURN password) and the HTTP proxy, from
the settings or this process's environment.
"""

from __future__ import annotations

import os

from voicepilot.contract.models import StartSessionParams
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.errors import auth_error, config_error
from voicepilot.realtime.endpoints import Endpoint, resolve_endpoint
from voicepilot.realtime.entra import EntraCredential
from voicepilot.realtime.ice_servers import ice_settings
from voicepilot.realtime.keys import ApiKeyCredential, Credential
from voicepilot.realtime.proxy import proxy_from


async def resolve(
    params: StartSessionParams, api_key: str | None, engine: LocalEngineProcess, turn_credential: str | None = None
) -> tuple[Endpoint, Credential]:
    connection = params.connection
    ice = ice_settings(connection, turn_credential)
    proxy = proxy_from(connection.proxy if connection else None, os.environ)
    if params.profile == "local" and not (connection and connection.endpoint):
        url, credential = await engine.ensure_started()
        return resolve_endpoint("local", connection, local_url=url, ice=ice, proxy=proxy), credential
    endpoint = resolve_endpoint(params.profile, connection, ice=ice, proxy=proxy)
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
