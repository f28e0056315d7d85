"""Run the engine: bind, announce the URL on stdout, serve until stopped.

When the engine is a child of the sidecar (or of a test), it reads its secrets as one JSON line
on stdin (never argv or env) and exits when that stdin closes, so it never outlives its parent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sys
from typing import Any

from aiohttp import web

from voicepilot.engine.app import Engine, EngineSecrets
from voicepilot.realtime.endpoints import is_loopback_url

log = logging.getLogger(__name__)


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def parse_secrets(line: bytes) -> EngineSecrets:
    payload: dict[str, Any] = json.loads(line or b"{}")
    api_key = payload.get("apiKey")
    if not isinstance(api_key, str) or not api_key:
        raise ValueError("the secrets line needs a non-empty 'apiKey'")
    token = payload.get("controlToken")
    return EngineSecrets(api_key, token if isinstance(token, str) and token else None)


async def serve(host: str, port: int, key_ttl_s: float, session_limit_s: float | None, secrets_stdin: bool) -> int:
    stdin: asyncio.StreamReader | None = None
    if secrets_stdin:
        stdin = await _stdin_reader()
        try:
            engine_secrets = parse_secrets(await stdin.readline())
        except ValueError as exc:
            sys.stderr.write(f"voicepilot engine: bad secrets on stdin: {exc}\n")
            return 2
    else:
        # A standalone engine with no secrets given gets a random key, which it prints once on
        # stderr for the person who started it; it is a loopback test key, not a cloud secret.
        engine_secrets = EngineSecrets(secrets.token_urlsafe(24), None)
        sys.stderr.write(f"voicepilot engine: API key for this run: {engine_secrets.api_key}\n")
    base = f"http://{host}:{port}/"
    engine = Engine(engine_secrets, key_ttl_s, loopback=is_loopback_url(base), session_limit_s=session_limit_s)
    runner = web.AppRunner(engine.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    url = f"http://{host}:{bound_port}"
    sys.stdout.write(json.dumps({"event": "listening", "url": url}) + "\n")
    sys.stdout.flush()
    log.info("engine listening on %s", url)
    try:
        if stdin is not None:
            while await stdin.readline():
                pass  # anything after the secrets line is ignored; EOF means the parent is gone
        else:
            await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0
