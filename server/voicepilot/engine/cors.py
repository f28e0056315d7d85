"""CORS for browser clients of the mint and call paths, as the service answers them.

A browser posts the SDP offer with an ``Authorization`` header, so it first sends a preflight
(``OPTIONS``); without an answer it never sends the offer. The real POST's answer must also allow
the origin and expose ``Location`` (where the call id is). The control API stays without CORS:
a web page must never reach it.
"""

from __future__ import annotations

from aiohttp import web

from voicepilot.engine.http_guard import Handler

CORS_PATHS = frozenset(
    {
        "/openai/v1/realtime/client_secrets",
        "/v1/realtime/client_secrets",
        "/openai/realtimeapi/sessions",
        "/v1/realtime/sessions",
        "/openai/v1/realtime/calls",
        "/v1/realtime/calls",
        "/v1/realtimertc",
        "/v1/realtime",
    }
)
ALLOWED_HEADERS = "Authorization, Content-Type, api-key, OpenAI-Beta"
PREFLIGHT_MAX_AGE_S = 600


def _allow(response: web.StreamResponse) -> None:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Location"


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path not in CORS_PATHS:
        return await handler(request)
    if request.method == "OPTIONS":
        preflight = web.Response(status=204)
        _allow(preflight)
        preflight.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        preflight.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        preflight.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return preflight
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _allow(exc)
        raise
    _allow(response)
    return response
