"""``scripts/bench``: VoicePilot's numbers, measured on this machine against the local engine.

Built on the same harness as the integration tests (the real sidecar and engine processes,
driven over JSON-RPC and the engine's control API), so a benchmark and a test exercise the
same code. ``python -m bench --help``.
"""
