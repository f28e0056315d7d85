"""Run the engine: bind, announce the URL on stdout, serve until stopped.

When the engine is a child of the sidecar (or of a test), it reads its secrets as one JSON line
on stdin (never argv or env) and exits when that stdin closes, so it never outlives its parent.
It listens on loopback: any other host needs ``--allow-remote`` (plain HTTP, keys minted for anyone
who can reach the port), and is refused without it.
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
from voicepilot.engine.limits import EngineLimits
from voicepilot.realtime.endpoints import is_loopback_address

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


def is_loopback_host(host: str) -> bool:
    return host == "localhost" or is_loopback_address(host)


def refuse_or_warn_remote(host: str, allow_remote: bool) -> bool:
    """For a host off loopback: True (refused, said why) without ``--allow-remote``, else a warning."""
    if is_loopback_host(host):
        return False
    where = repr(host) if host else "every interface"
    if not allow_remote:
        sys.stderr.write(
            f"voicepilot engine: refusing to listen on {where}: the engine is a local test peer (plain HTTP, "
            "no TLS) and anyone who reaches the port could mint keys with its API key. Use --host 127.0.0.1, "
            "or add --allow-remote if you really mean it.\n"
        )
        return True
    sys.stderr.write(
        f"voicepilot engine: WARNING: listening on {where} (--allow-remote): plain HTTP, reachable beyond "
        "this machine; keep it on a network you trust.\n"
    )
    return False


async def serve(
    host: str,
    port: int,
    key_ttl_s: float,
    session_limit_s: float | None,
    secrets_stdin: bool,
    allow_remote: bool = False,
    limits: EngineLimits | None = None,
) -> int:
    if refuse_or_warn_remote(host, allow_remote):
        return 2
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
    engine = Engine(
        engine_secrets,
        key_ttl_s,
        loopback=is_loopback_host(host),
        session_limit_s=session_limit_s,
        limits=limits,
    )
    runner = web.AppRunner(engine.app(), access_log=None, **engine.http_guard.runner_options())
    await runner.setup()
    assert runner.server is not None
    # Our own listener rather than aiohttp's TCPSite: each new connection passes the guard first.
    listener = await asyncio.get_running_loop().create_server(
        engine.http_guard.protocol_factory(runner.server), host or None, port
    )
    bound_port = listener.sockets[0].getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{bound_port}"
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
        listener.close()
        await runner.cleanup()
    return 0
