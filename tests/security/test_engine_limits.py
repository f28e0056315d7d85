"""The engine is no network service: it stays on loopback unless told otherwise, and every limit
holds against a real engine process (its limits lowered by flags so that each test is short).

Each limit's default and flag: docs/security.md ("The local engine").
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from tests.integration.engine_process import EngineProcess
from voicepilot.engine.server import refuse_or_warn_remote

pytestmark = pytest.mark.integration

StartEngine = Callable[..., Awaitable[EngineProcess]]
MINT = "/openai/v1/realtime/client_secrets"
CALLS = "/openai/v1/realtime/calls"
WEBSOCKET = "/openai/v1/realtime"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_error_body(payload: dict[str, Any], code: str) -> str:
    """The documented shape, and the message."""
    error = payload["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    return str(error["message"])


async def mint(http: aiohttp.ClientSession, engine: EngineProcess, instructions: str = "") -> tuple[int, Any, str]:
    body = {"session": {"type": "realtime", "instructions": instructions}}
    async with http.post(engine.url + MINT, json=body, headers={"api-key": engine.api_key}) as response:
        return response.status, await response.json(), response.headers.get("Retry-After", "")


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    """Polls the control API: the engine's counters are the event, and they live in another process."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)


# ----------------------------------------------------------------------------- loopback only


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.10", "10.1.2.3", "example.com"])
def test_a_host_off_loopback_is_refused_without_allow_remote(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert refuse_or_warn_remote(host, allow_remote=False) is True
    message = capsys.readouterr().err
    assert "refusing to listen" in message
    assert "--allow-remote" in message
    assert refuse_or_warn_remote(host, allow_remote=True) is False
    assert "WARNING" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_need_no_flag(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert refuse_or_warn_remote(host, allow_remote=False) is False
    assert capsys.readouterr().err == ""


async def engine_on_every_interface(*argv: str) -> asyncio.subprocess.Process:
    """``argv`` (a prefix such as ``unshare``, and flags) around an engine asked for ``0.0.0.0``."""
    split = argv.index("engine")
    command = [*argv[:split], sys.executable, "-m", "voicepilot", "engine", "--host", "0.0.0.0", "--port", "0"]
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(*command, *argv[split + 1 :], stdin=pipe, stdout=pipe, stderr=pipe)


async def test_the_engine_process_exits_non_zero_for_a_remote_host() -> None:
    process = await engine_on_every_interface("engine")
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert stdout == b""  # it never listened
    assert b"refusing to listen on '0.0.0.0'" in stderr
    assert b"--allow-remote" in stderr


async def test_allow_remote_listens_on_every_interface_with_a_warning() -> None:
    """In a network namespace of its own (``unshare -rn``: nothing but a loopback that is down), so
    that listening on every interface exposes nothing."""
    process = await engine_on_every_interface("unshare", "-rn", "engine", "--allow-remote", "--secrets-stdin")
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        process.stdin.write(json.dumps({"apiKey": "remote-test-key-123456"}).encode() + b"\n")
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        url = json.loads(line)["url"]
        assert url.startswith("http://0.0.0.0:")
        port = int(url.rsplit(":", 1)[1])
        # Its own view of its namespace's sockets: it listens on 0.0.0.0.
        table = await asyncio.to_thread(Path(f"/proc/{process.pid}/net/tcp").read_text)
        assert f"00000000:{port:04X}" in [f[1] for f in (row.split() for row in table.splitlines()[1:]) if f[3] == "0A"]
    finally:
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 10)
    stderr = await process.stderr.read()
    assert b"WARNING: listening on '0.0.0.0' (--allow-remote)" in stderr


# ----------------------------------------------------------------------------- keys


async def test_a_client_minting_in_a_loop_meets_the_key_cap_and_the_engine_memory_stays_flat(
    start_engine: StartEngine,
) -> None:
    """10,000 mints of 8 KB sessions each: without the cap the store would hold 80 MB of them."""
    engine = await start_engine("--max-keys", "100")
    instructions = "keep it short. " * 550  # 8 KB
    seen: dict[int, int] = {}
    refusal: tuple[Any, str] | None = None
    before: float | None = None

    async def client(http: aiohttp.ClientSession, mints: int) -> None:
        nonlocal refusal, before
        for _ in range(mints):
            status, payload, retry_after = await mint(http, engine, instructions)
            seen[status] = seen.get(status, 0) + 1
            if status == 429 and refusal is None:
                refusal = payload, retry_after
                before = rss_mb(engine.process.pid)  # the store is full from here on

    async with aiohttp.ClientSession() as http:
        await client(http, 200)
        await asyncio.gather(*(client(http, 2450) for _ in range(4)))
    after = rss_mb(engine.process.pid)
    assert seen == {200: 100, 429: 9900}
    assert refusal is not None
    assert before is not None
    message = assert_error_body(refusal[0], "too_many_keys")
    assert "at most 100 keys" in message
    assert 1 <= int(refusal[1]) <= 60  # Retry-After: when the first key expires (TTL 60 s)
    control = await engine.control()
    assert (control["keysLive"], control["keysMinted"], control["limits"]["keysRefused"]) == (100, 100, 9900)
    print(f"engine RSS {before:.1f} MB at the cap, {after:.1f} MB after 10,000 mints")
    assert after - before < 10, f"RSS grew {after - before:.1f} MB over 9,800 refused mints"


async def test_the_key_store_is_capped_by_bytes_too(start_engine: StartEngine) -> None:
    """Sessions of 500 KB: the count cap alone would let 1,000 of them (500 MB) in."""
    engine = await start_engine("--max-key-bytes", "2000000")
    big = "x" * 500_000
    async with aiohttp.ClientSession() as http:
        statuses = [(await mint(http, engine, big))[0] for _ in range(3)]
        before = rss_mb(engine.process.pid)
        statuses += [(await mint(http, engine, big))[0] for _ in range(60)]
        after = rss_mb(engine.process.pid)
        _, payload, _ = await mint(http, engine, big)
        too_large, too_large_payload, _ = await mint(http, engine, "x" * (1 << 20))  # over the 1 MiB body cap
    assert too_large == 413
    assert "too large" in assert_error_body(too_large_payload, "request_too_large")
    assert statuses == [200] * 3 + [429] * 60
    assert "2000000 bytes" in assert_error_body(payload, "too_many_keys")
    assert after - before < 10, f"RSS grew {after - before:.1f} MB over 60 refused 500 KB mints"


async def test_expired_keys_are_forgotten_and_only_a_bounded_few_still_answer_expired(
    start_engine: StartEngine,
) -> None:
    engine = await start_engine("--key-ttl", "0", "--expired-keys-kept", "50")
    async with aiohttp.ClientSession() as http:
        keys = [(await mint(http, engine))[1]["value"] for _ in range(2000)]
        control = await engine.control()
        assert (control["keysLive"], control["keysRemembered"]) == (0, 50)

        async def offer(key: str) -> str:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"}
            async with http.post(engine.url + CALLS, data="v=0\r\nm=audio 9\r\n", headers=headers) as response:
                assert response.status == 401
                return assert_error_body(await response.json(), "invalid_api_key")

        assert "expired" in await offer(keys[-1])
        assert "Incorrect API key" in await offer(keys[0])  # long forgotten


# ----------------------------------------------------------------------------- calls


async def candidate_less_offer() -> tuple[RTCPeerConnection, str]:
    """A real offer whose ICE can never connect: no candidates, and no end-of-candidates either."""
    pc = RTCPeerConnection()
    pc.addTransceiver("audio")
    pc.createDataChannel("oai-events")
    await pc.setLocalDescription(await pc.createOffer())
    lines = pc.localDescription.sdp.split("\r\n")
    return pc, "\r\n".join(line for line in lines if not line.startswith(("a=candidate", "a=end-of-candidates")))


async def test_calls_that_never_connect_are_capped_and_closed_after_the_connect_timeout(
    start_engine: StartEngine,
) -> None:
    engine = await start_engine("--max-pending-calls", "2", "--connect-timeout", "1.5")
    pc, sdp = await candidate_less_offer()
    try:
        async with aiohttp.ClientSession() as http:
            key = (await mint(http, engine))[1]["value"]
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"}

            async def offer() -> tuple[int, str, str]:
                async with http.post(engine.url + CALLS, data=sdp, headers=headers) as response:
                    return response.status, await response.text(), response.headers.get("Retry-After", "")

            started = time.monotonic()
            assert [status for status, _, _ in [await offer(), await offer()]] == [201, 201]
            status, text, retry_after = await offer()
            assert (status, retry_after) == (503, "1")
            assert "At most 2 calls may be connecting" in assert_error_body(json.loads(text), "too_many_pending_calls")

            async def both_timed_out() -> bool:
                return bool((await engine.control())["limits"]["connectTimeouts"] == 2)

            await wait_for(both_timed_out, 10)
            assert time.monotonic() - started >= 1.4
            control = await engine.control()
            assert [call["closed"] for call in control["calls"]] == [True, True]
            assert control["limits"]["callsRefused"] == 1
            assert (await offer())[0] == 201  # room again
    finally:
        await pc.close()


async def test_websocket_calls_are_capped_and_one_that_sends_nothing_is_closed(start_engine: StartEngine) -> None:
    engine = await start_engine("--max-calls", "2", "--ws-idle-timeout", "1")
    headers = {"api-key": engine.api_key}
    async with aiohttp.ClientSession() as http:
        # Pings are traffic: a client that sends them is not idle. Sent by hand, not as aiohttp's
        # heartbeat, which closes the client itself when a pong is late on a loaded machine.
        alive = await http.ws_connect(engine.url + WEBSOCKET, headers=headers, heartbeat=None)
        assert (await alive.receive(timeout=10)).type == aiohttp.WSMsgType.TEXT  # session.created

        async def keep_pinging() -> None:
            while not alive.closed:
                await alive.ping()
                await asyncio.sleep(0.3)

        pinger = asyncio.create_task(keep_pinging())
        # Measured from before the handshake: the engine's idle clock starts within it, so the time
        # the refusals below take on a loaded machine cannot make the close look early.
        started = time.monotonic()
        idle = await http.ws_connect(engine.url + WEBSOCKET, headers=headers, heartbeat=None, autoping=False)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(engine.url + WEBSOCKET, headers=headers)
        assert refused.value.status == 503
        async with http.get(engine.url + WEBSOCKET, headers=headers) as response:
            assert (response.status, response.headers.get("Retry-After")) == (503, "1")
            assert "at most 2 calls" in assert_error_body(await response.json(), "too_many_calls")

        received = [await idle.receive(timeout=10)]
        while received[-1].type == aiohttp.WSMsgType.TEXT:  # session.created, then nothing
            received.append(await idle.receive(timeout=10))
        assert [message.type for message in received] == [aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.CLOSE]
        assert idle.close_code == 1008
        assert 1.0 <= time.monotonic() - started <= 6
        with pytest.raises(asyncio.TimeoutError):
            # Nothing to read, and still open. (Not receive's timeout: each of its pongs restarts it.)
            await asyncio.wait_for(alive.receive(), 1.5)
        assert not alive.closed
        pinger.cancel()
        await asyncio.gather(pinger, return_exceptions=True)
        await alive.close()
        await idle.close()
    control = await engine.control()
    assert control["limits"]["wsIdleTimeouts"] == 1
    assert control["limits"]["callsRefused"] == 2


# ----------------------------------------------------------------------------- connections


async def read_until_closed(reader: asyncio.StreamReader, timeout_s: float) -> bytes:
    """What the engine sent until it closed the connection (a reset counts: a client that is still
    sending when the engine closes gets one)."""
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), timeout_s):
            received += chunk
    except ConnectionResetError:
        pass
    return received


async def test_slow_and_idle_clients_are_cut_off(start_engine: StartEngine) -> None:
    """Raw sockets: silent, a slowloris trickling its head, idle after a request, a slow second head,
    a slow body. Side by side, so the test lasts about as long as one timeout."""
    engine = await start_engine("--header-timeout", "1", "--idle-timeout", "1.5", "--body-timeout", "1")
    head = f"POST {MINT} HTTP/1.1\r\nHost: 127.0.0.1\r\napi-key: {engine.api_key}\r\n".encode()
    body = b'{"session": {"type": "realtime"}}'
    request = head + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    async def connection(send: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> tuple[float, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
        started = time.monotonic()
        sender = asyncio.ensure_future(send(writer))
        try:
            received = await read_until_closed(reader, 10)
        finally:
            sender.cancel()
            writer.close()
        return time.monotonic() - started, received

    async def silent(writer: asyncio.StreamWriter) -> None:
        pass

    async def trickle(writer: asyncio.StreamWriter, data: bytes) -> None:
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)

    async def slowloris(writer: asyncio.StreamWriter) -> None:
        await trickle(writer, head + b"X-Padding: " + b"a" * 200 + b"\r\n\r\n")

    async def one_request(writer: asyncio.StreamWriter) -> None:
        writer.write(request)

    async def slow_second_head(writer: asyncio.StreamWriter) -> None:
        writer.write(request)
        await trickle(writer, head + b"X-Padding: " + b"a" * 200 + b"\r\n\r\n")

    async def slow_body(writer: asyncio.StreamWriter) -> None:
        writer.write(head + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")

    (
        (silent_s, silent_got),
        (loris_s, loris_got),
        (idle_s, idle_got),
        (second_s, second_got),
        (body_s, body_got),
    ) = await asyncio.gather(
        connection(silent),
        connection(slowloris),
        connection(one_request),
        connection(slow_second_head),
        connection(slow_body),
    )
    assert (silent_got, loris_got) == (b"", b"")
    assert 0.9 <= silent_s <= 4
    assert 0.9 <= loris_s <= 4  # its whole head would have taken 30 s
    assert idle_got.startswith(b"HTTP/1.1 200")
    assert 1.4 <= idle_s <= 5
    assert second_got.startswith(b"HTTP/1.1 200")
    assert second_got.count(b"HTTP/1.1") == 1  # the second head never came whole
    assert second_s <= 5
    assert body_got.startswith(b"HTTP/1.1 408")
    assert 0.9 <= body_s <= 5
    assert "did not arrive within 1 s" in assert_error_body(
        json.loads(body_got.split(b"\r\n\r\n", 1)[1]), "request_timeout"
    )
    limits = (await engine.control())["limits"]
    assert (limits["headerTimeouts"], limits["bodyTimeouts"]) == (2, 1)


async def test_connections_over_the_cap_are_answered_503_and_closed(start_engine: StartEngine) -> None:
    engine = await start_engine("--max-connections", "4")
    held = [await asyncio.open_connection("127.0.0.1", engine.port) for _ in range(4)]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(engine.url + MINT, json={}, headers={"api-key": engine.api_key}) as response:
                assert (response.status, response.headers.get("Retry-After")) == (503, "1")
                assert "at most 4" in assert_error_body(await response.json(), "too_many_connections")
            reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
            answer = await read_until_closed(reader, 5)  # closed by the engine, without a request
            writer.close()
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            held.pop()[1].close()

            async def served() -> bool:
                status, _, _ = await mint(http, engine)
                return status == 200

            await wait_for(served, 5)
    finally:
        for _, writer in held:
            writer.close()
    assert (await engine.control())["limits"]["connectionsRefused"] >= 2
