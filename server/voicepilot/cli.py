"""Command line: ``voicepilot sidecar | engine | talk | contract-ts``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicepilot", description="Talk to your editor.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("contract-ts", help="print the TypeScript mirror of the editor contract")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "contract-ts":
        from voicepilot.contract_ts import generate

        sys.stdout.write(generate())
        return 0
    return 2
