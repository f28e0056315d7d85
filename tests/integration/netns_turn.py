"""``python -m tests.integration.netns_turn udp|tcp|tls``, run under ``unshare -n`` (root): in a
private network namespace where nftables drops every UDP datagram on loopback that neither comes
from nor goes to coturn, probe the local engine with the policy ``all`` and print the diagnostics'
checks and the number of datagrams dropped as JSON. Direct paths fail, so ICE must find the relay.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.fixtures.coturn import RELAY_PORTS, Coturn
from tests.integration.rpc import SidecarClient

TABLE = "vpturn"


def block_direct_udp(turn: Coturn, transport: str) -> None:
    """Drop UDP unless one end is coturn: a relay port, or its listener when TURN runs over UDP."""
    allowed = f"{RELAY_PORTS[0]}-{RELAY_PORTS[1]}" + (f", {turn.port}" if transport == "udp" else "")
    rules = (
        f"table inet {TABLE} {{\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n"
        f"    udp sport != {{ {allowed} }} udp dport != {{ {allowed} }} counter drop\n"
        "  }\n"
        "}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)


def dropped() -> int:
    listing = subprocess.run(["nft", "-j", "list", "table", "inet", TABLE], capture_output=True, check=True).stdout
    for item in json.loads(listing)["nftables"]:
        for expression in item.get("rule", {}).get("expr", []):
            if "counter" in expression:
                return int(expression["counter"]["packets"])
    return 0


async def probe(transport: str, workdir: Path) -> dict[str, Any]:
    turn = Coturn.start(workdir)
    try:
        block_direct_udp(turn, transport)
        sidecar = await SidecarClient.start(workdir, {"SSL_CERT_FILE": str(turn.cert)})
        try:
            await sidecar.request("voicepilot/setCredentials", {"apiKey": None, "turnCredential": turn.password})
            connection = {
                "iceServers": [{"urls": [turn.url(transport)], "username": turn.username}],
                "iceTransportPolicy": "all",
                "transport": "webrtc",
            }
            result = await sidecar.request(
                "voicepilot/runDiagnostics", {"profile": "local", "connection": connection}, timeout=90
            )
        finally:
            await sidecar.stop()
    finally:
        turn.stop()
    return {"checks": result["checks"], "dropped": dropped()}


def main() -> int:
    transport = sys.argv[1]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.TemporaryDirectory(prefix="vp-netns-turn-") as workdir:
        print(json.dumps(asyncio.run(probe(transport, Path(workdir)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
