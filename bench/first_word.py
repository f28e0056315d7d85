"""The first word and the devices on a loaded machine (issue #22), on a private PulseAudio.

With CPU busy loops, disk writes and other audio streams running (tests/fixtures/load.py):

- ``first_word_ok_ratio``: "go to line forty two" said during ``connecting`` and 0, 300 and
  1000 ms after ``connected``, ``tries`` times each: the share heard whole (transcript and call).
- ``false_device_alarms``: device state changes and device errors over an idle session of
  ``idle_s`` with the speaker on a sink nobody else plays to (none of its devices fails).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.fixtures.load import MachineLoad
from tests.fixtures.pulse import PulseAudio
from tests.integration.engine_process import EngineProcess
from tests.integration.first_word import STARTS, Outcome, Sessions
from tests.integration.rpc import SidecarClient
from tests.integration.spoken import SAMPLES


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    idle: Outcome | None = None

    @property
    def ok_ratio(self) -> float:
        return sum(o.whole for o in self.outcomes) / len(self.outcomes) if self.outcomes else float("nan")

    @property
    def false_alarms(self) -> int:
        return len(self.idle.device_alarms) if self.idle is not None else 0

    def by_start(self) -> dict[str, str]:
        return {
            str(start): f"{sum(o.whole for o in self.outcomes if o.start == start)}/"
            f"{sum(1 for o in self.outcomes if o.start == start)}"
            for start in STARTS
        }


async def measure(workdir: Path, tries: int, idle_s: float) -> Report:
    pulse = PulseAudio(workdir / "pulse-first-word")
    pulse.start()
    report = Report()
    try:
        engine = await EngineProcess.start(workdir)
        try:
            # PortAudio finds the daemon through its environment, when the sidecar loads it.
            sidecar = await SidecarClient.start(workdir, extra_env=pulse.env)
            try:
                sessions = Sessions(sidecar, engine)
                await sessions.prepare()
                with MachineLoad(pulse, workdir):
                    for start in STARTS:
                        for _ in range(tries):
                            outcome = await sessions.say_at_start(pulse, SAMPLES, start)
                            if not outcome.whole:
                                print(f"[bench] said at {start}: heard {outcome.heard}, calls {outcome.calls}, "
                                      f"engine {outcome.engine_turns}, hole at the microphone "
                                      f"{outcome.mic_hole_ms} ms", file=sys.stderr)  # fmt: skip
                            report.outcomes.append(outcome)
                    report.idle = await sessions.idle_session(pulse, idle_s)
                for alarm in report.idle.device_alarms:
                    print(f"[bench] idle session alarm: {alarm}", file=sys.stderr)
            finally:
                await sidecar.stop()
        finally:
            await engine.stop()
    finally:
        pulse.stop()
    return report
