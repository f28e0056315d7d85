"""The sidecar starts without the session's heavy modules, so ``initialize`` is answered quickly.

aiortc, PyAV, numpy, aiohttp, azure-identity, sounddevice and pocketsphinx are imported only when a
session, a device listing or a probe needs them. Checked in a fresh interpreter, as the editor
starts it (``python -m voicepilot sidecar`` imports the command line, then the stdio server).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("aiortc", "av", "numpy", "aiohttp", "azure.identity", "sounddevice", "pocketsphinx")


def loaded_after(*modules: str) -> list[str]:
    """Which of the heavy modules a fresh interpreter holds after importing ``modules``."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_the_sidecar_entry_imports_none_of_the_heavy_modules() -> None:
    assert loaded_after("voicepilot.cli", "voicepilot.sidecar.stdio") == []


def test_a_session_does_bring_them() -> None:
    # The check itself can see them: building a conversation imports the audio and WebRTC stack.
    loaded = loaded_after("voicepilot.sidecar.stdio", "voicepilot.conversation.launch")
    assert {"aiortc", "av", "numpy", "aiohttp"} <= set(loaded)
