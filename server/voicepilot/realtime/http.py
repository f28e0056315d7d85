"""The HTTP client session every realtime request goes through.

Requests that carry a credential never follow a redirect: a redirect would send the key on to
wherever it points. The key mint and the SDP offer say so per request (``allow_redirects=False``);
aiohttp's ``ws_connect`` has no such switch and follows redirects with the same headers, so this
session refuses every redirect outright, whatever the request.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp


class RedirectRefused(aiohttp.ClientError):
    """The service answered with a redirect, which is never followed with a credential."""


async def _refuse_redirect(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestRedirectParams
) -> None:
    params.response.close()
    raise RedirectRefused(f"redirected ({params.response.status}) to {params.response.headers.get('Location', '?')}")


def client_session() -> aiohttp.ClientSession:
    """A client session that refuses redirects (TLS verification stays aiohttp's default: on)."""
    trace = aiohttp.TraceConfig()
    trace.on_request_redirect.append(_refuse_redirect)
    return aiohttp.ClientSession(trace_configs=[trace])
