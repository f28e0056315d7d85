"""Integration fixtures: a private PulseAudio with a virtual microphone and speaker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.pulse import PulseAudio


@pytest.fixture(scope="session")
def pulse_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseAudio]:
    """Started once per test run (about 2.5 s, see tests/fixtures/pulse.py) and stopped at the end.

    Its environment is set for this process and every child it starts (the sidecar), because
    PortAudio finds the daemon through ``XDG_RUNTIME_DIR``/``PULSE_SERVER`` when it loads.
    """
    pulse = PulseAudio(Path(tmp_path_factory.mktemp("pulse")))
    pulse.start()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in pulse.env.items():
            patch.setenv(name, value)
        yield pulse
    pulse.stop()


@pytest.fixture
def pulse(pulse_daemon: PulseAudio) -> Iterator[PulseAudio]:
    """The daemon, put back as it was after each test (a test may unload or suspend devices)."""
    yield pulse_daemon
    pulse_daemon.restore()
