"""The terminal's live audio: ``voicepilot devices`` and ``voicepilot talk --mic``.

A terminal cannot see a key being held, so push-to-talk is a toggle: Enter starts a turn, Enter
again sends it. With ``--vad`` the service finds the turns and Enter stops the assistant. ``q`` or
end of input (Ctrl-D) ends the session. Prompts go to stderr: stdout carries the session's output
(``--json``: one object per line).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable

from voicepilot.audio.devices import Device
from voicepilot.audio.voice import available_devices
from voicepilot.conversation.turns import PushToTalk
from voicepilot.errors import VoicePilotError
from voicepilot.realtime.session import RealtimeSession


def run_devices(as_json: bool) -> int:
    """Print the microphones and speakers; the system default is marked with ``*``."""
    try:
        inputs, outputs = asyncio.run(_both())
    except VoicePilotError as exc:
        sys.stderr.write(f"voicepilot: {exc.describe()}\n")
        return 1
    if as_json:
        for kind, devices in (("input", inputs), ("output", outputs)):
            for d in devices:
                record = {
                    "kind": kind,
                    "name": d.name,
                    "description": d.description,
                    "hostApi": d.host_api,
                    "channels": d.channels,
                    "sampleRate": d.sample_rate,
                    "isDefault": d.is_default,
                }
                sys.stdout.write(json.dumps(record) + "\n")
        return 0
    for title, devices in (("Microphones", inputs), ("Speakers", outputs)):
        sys.stdout.write(f"{title}:\n")
        for d in devices or []:
            detail = f"{d.host_api}, {d.channels} ch, {d.sample_rate} Hz"
            label = f" - {d.description}" if d.description != d.name else ""
            sys.stdout.write(f"  {'*' if d.is_default else ' '} {d.name}{label} ({detail})\n")
        if not devices:
            sys.stdout.write("    (none)\n")
    return 0


async def _both() -> tuple[list[Device], list[Device]]:
    return await available_devices("input"), await available_devices("output")


async def run_live(
    session: RealtimeSession, turns: PushToTalk, push_to_talk: bool, say: Callable[[str], None] | None = None
) -> None:
    """Drive push-to-talk (or barge-in) from stdin until ``q``, end of input or the session's end."""
    prompt = say or (lambda text: (sys.stderr.write(text + "\n"), sys.stderr.flush()))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    if push_to_talk:
        prompt("Press Enter to talk, Enter again to send; q or Ctrl-D to quit.")
    else:
        prompt("Listening (the service detects turns). Enter stops the assistant; q or Ctrl-D quits.")
    ended = asyncio.ensure_future(session.ended.wait())
    try:
        while True:
            line_task = asyncio.ensure_future(reader.readline())
            done, _ = await asyncio.wait({line_task, ended}, return_when=asyncio.FIRST_COMPLETED)
            if ended in done:
                line_task.cancel()
                return
            line = line_task.result()
            if not line or line.strip().lower() in (b"q", b"quit"):
                return
            if not push_to_talk:
                if turns.stop_assistant():
                    prompt("[mic] stopped the assistant")
            elif not turns.pressed:
                await turns.press()
                prompt("[mic] listening... Enter to send")
            elif turns.release():
                prompt("[mic] sent")
            else:
                prompt("[mic] too short: nothing sent")
    finally:
        ended.cancel()
        transport.close()
