from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "voicepilot" / "samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
async def start_engine(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[EngineProcess]]]:
    started: list[EngineProcess] = []

    async def start(*args: str) -> EngineProcess:
        engine = await EngineProcess.start(tmp_path, *args)
        started.append(engine)
        return engine

    yield start
    for engine in started:
        await engine.stop()


@pytest.fixture
async def engine(start_engine: Callable[..., Awaitable[EngineProcess]]) -> EngineProcess:
    return await start_engine()


@pytest.fixture
async def sidecar(tmp_path: Path) -> AsyncIterator[SidecarClient]:
    client = await SidecarClient.start(tmp_path)
    yield client
    await client.stop()
