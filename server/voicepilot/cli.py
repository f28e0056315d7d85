"""Command line: ``voicepilot sidecar | engine | talk | devices | contract-ts``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from voicepilot import logs
from voicepilot.engine.limits import add_limit_arguments, limits_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicepilot", description="Talk to your editor.")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level (default: INFO; WARNING for talk, whose stdout is the output)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("sidecar", help="serve the editor over JSON-RPC on stdio (started by the extension)")

    engine = sub.add_parser("engine", help="run the local realtime engine on loopback")
    engine.add_argument("--host", default="127.0.0.1", help="a loopback address (others need --allow-remote)")
    engine.add_argument(
        "--allow-remote",
        action="store_true",
        help="let --host be a non-loopback address: plain HTTP, reachable from the network (a warning is printed)",
    )
    engine.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    engine.add_argument("--key-ttl", type=float, default=60.0, help="ephemeral key lifetime in seconds")
    engine.add_argument("--session-limit", type=float, default=None, help="maximum session length in seconds")
    engine.add_argument(
        "--secrets-stdin",
        action="store_true",
        help='read {"apiKey": ..., "controlToken": ...} as one JSON line on stdin; exit on EOF',
    )
    add_limit_arguments(engine)

    talk = sub.add_parser("talk", help="run a voice session from a terminal")
    talk.add_argument("--profile", choices=["local", "azure", "openai"], default="local")
    source = talk.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", metavar="FILE.wav", help="audio file to speak")
    source.add_argument("--mic", action="store_true", help="talk through the microphone (push-to-talk on Enter)")
    source.add_argument(
        "--text", metavar="MESSAGE", help="type MESSAGE instead of speaking: a text-only conversation, no audio device"
    )
    talk.add_argument("--device", metavar="NAME", help="with --mic: the microphone (see voicepilot devices)")
    talk.add_argument("--speaker", metavar="NAME", help="the speaker for the reply (default with --mic: the default)")
    talk.add_argument("--vad", action="store_true", help="with --mic: the service detects turns instead of Enter")
    talk.add_argument(
        "--barge-in",
        action="store_true",
        help="with --vad: speaking interrupts the assistant (echo cancellation keeps its voice out of the microphone)",
    )
    talk.add_argument(
        "--no-echo-cancellation",
        dest="echo_cancellation",
        action="store_false",
        help="with --barge-in: do not cancel the speaker's echo (a headset needs none)",
    )
    talk.add_argument("--json", action="store_true", help="one JSON object per line")
    talk.add_argument("--endpoint", help="service URL (default: start a local engine)")
    talk.add_argument("--deployment", help="deployment or model name")
    talk.add_argument("--api-flavor", choices=["ga", "preview"], default=None)
    talk.add_argument("--region", help="Azure preview region")
    talk.add_argument("--renew-interval", type=float, default=None, metavar="S", help="renew the key every S seconds")
    talk.add_argument("--max-session", type=float, default=None, metavar="S", help="hand over every S seconds")
    talk.add_argument(
        "--transport",
        choices=["auto", "webrtc", "websocket"],
        default=None,
        help="auto: WebRTC, falling back to WebSocket when WebRTC cannot connect",
    )
    talk.add_argument("--key-ttl", type=float, default=60.0, help="key lifetime for the engine talk starts")
    talk.add_argument("--session-limit", type=float, default=None, help="session limit for the engine talk starts")

    devices = sub.add_parser("devices", help="list microphones and speakers (* marks the default)")
    devices.add_argument("--json", action="store_true", help="one JSON object per line")

    sub.add_parser("contract-ts", help="print the TypeScript mirror of the editor contract")
    return parser


def _listen_for_debugger() -> None:
    """``VOICEPILOT_DEBUGPY=5678``: accept a debugger on that port (the launch config attaches)."""
    port = os.environ.get("VOICEPILOT_DEBUGPY")
    if not port:
        return
    try:
        import debugpy  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        logging.getLogger(__name__).warning("VOICEPILOT_DEBUGPY is set but debugpy is not installed")
        return
    # Listen without waiting: the sidecar must answer initialize whether or not a debugger comes.
    debugpy.listen(("127.0.0.1", int(port)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "contract-ts":
        from voicepilot.contract.typescript import generate

        sys.stdout.write(generate())
        return 0
    logs.configure(
        args.log_level or ("WARNING" if args.command == "talk" else "INFO"), timestamps=args.command != "sidecar"
    )
    if args.command == "sidecar":
        from voicepilot.sidecar.stdio import main as sidecar_main

        _listen_for_debugger()
        return sidecar_main()
    if args.command == "engine":
        from voicepilot.engine.server import serve

        return asyncio.run(
            serve(
                args.host,
                args.port,
                args.key_ttl,
                args.session_limit,
                args.secrets_stdin,
                args.allow_remote,
                limits_from_args(args),
            )
        )
    if args.command == "devices":
        from voicepilot.terminal.talk_live import run_devices

        return run_devices(args.json)
    if args.command == "talk":
        from voicepilot.terminal.talk import run_talk

        return asyncio.run(run_talk(args))
    return 2
