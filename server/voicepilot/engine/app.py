"""The local realtime engine's HTTP surface: the service's key and call endpoints, on loopback.

Paths served: Azure GA (``/openai/v1/realtime/client_secrets``, ``/openai/v1/realtime/calls``),
Azure preview (``/openai/realtimeapi/sessions?api-version=…``, ``/v1/realtimertc?model=…``),
OpenAI GA (``/v1/realtime/client_secrets``, ``/v1/realtime/calls``) and OpenAI beta
(``/v1/realtime/sessions``, ``/v1/realtime?model=…``). The control API (tests only, loopback
clients with the control token) is ``GET /control/calls``, ``POST /control/faults`` (see
:class:`FaultSettings`) and ``POST /control/actions`` (``closePeers``, ``sendEvents``, and
``callTool``: every live call answers with that function call, as a hostile model would).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from voicepilot.engine.call_gate import CallGate
from voicepilot.engine.conversation import Conversation
from voicepilot.engine.faults import Faults, FaultSettings
from voicepilot.engine.http_errors import error_response
from voicepilot.engine.http_guard import HttpGuard
from voicepilot.engine.keys import IssuedKey, KeyStore, KeyStoreFull
from voicepilot.engine.limits import EngineLimits, LimitCounters
from voicepilot.engine.recognizers import RecognizerPool
from voicepilot.engine.webrtc_call import WebRTCCall
from voicepilot.engine.websocket_call import WebSocketCall
from voicepilot.realtime.endpoints import is_loopback_address
from voicepilot.realtime.events import new_id
from voicepilot.realtime.session_config import Flavor, SessionConfig

log = logging.getLogger(__name__)

MIN_TTL_S, MAX_TTL_S = 10, 7200


@dataclass(frozen=True)
class EngineSecrets:
    api_key: str
    control_token: str | None = None


def presented_key(request: web.Request) -> str | None:
    """The credential a request carries: an ``api-key`` header, else a bearer token."""
    auth = request.headers.get("Authorization", "")
    return request.headers.get("api-key") or (auth[len("Bearer ") :] if auth.startswith("Bearer ") else None)


class Engine:
    def __init__(
        self,
        secrets: EngineSecrets,
        key_ttl_s: float = 60.0,
        loopback: bool = True,
        session_limit_s: float | None = None,
        limits: EngineLimits | None = None,
    ) -> None:
        self.secrets = secrets
        self.limits = limits = limits or EngineLimits()
        self.keys = KeyStore(
            key_ttl_s,
            max_keys=limits.max_keys,
            max_bytes=limits.max_key_bytes,
            expired_kept=limits.expired_keys_kept,
            expired_kept_s=limits.expired_keys_kept_s,
        )
        self.counters = LimitCounters()
        self.http_guard = HttpGuard(limits, self.counters)
        self.call_gate = CallGate(limits, self.counters)
        self.loopback = loopback
        self.session_limit_s = session_limit_s
        self.calls: dict[str, WebRTCCall | WebSocketCall] = {}
        self.recognizers = RecognizerPool()
        self.faults = Faults()
        self.expired_key_rejections = 0
        self.mint_requests = 0
        self.call_requests = 0

    # ------------------------------------------------------------------ app

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20, middlewares=[self.http_guard.middleware])
        app.router.add_post("/openai/v1/realtime/client_secrets", self.mint_ga)
        app.router.add_post("/v1/realtime/client_secrets", self.mint_ga)
        app.router.add_post("/openai/realtimeapi/sessions", self.mint_preview)
        app.router.add_post("/v1/realtime/sessions", self.mint_preview)
        app.router.add_post("/openai/v1/realtime/calls", self.call_ga)
        app.router.add_post("/v1/realtime/calls", self.call_ga)
        app.router.add_post("/v1/realtimertc", self.call_preview)
        app.router.add_post("/v1/realtime", self.call_preview)
        app.router.add_get("/openai/v1/realtime", self.websocket)
        app.router.add_get("/openai/realtime", self.websocket)
        app.router.add_get("/v1/realtime", self.websocket)
        app.router.add_get("/control/calls", self.control_calls)
        app.router.add_post("/control/faults", self.control_faults)
        app.router.add_post("/control/actions", self.control_actions)
        app.on_startup.append(self._warm_up)
        app.on_shutdown.append(self._close_calls)
        return app

    async def _warm_up(self, _app: web.Application) -> None:
        self.recognizers.start_warming()

    async def _close_calls(self, _app: web.Application) -> None:
        for call in list(self.calls.values()):
            await call.close()
        await self.call_gate.close()
        self.http_guard.close()
        await self.recognizers.close()

    # ------------------------------------------------------------------ auth

    def _resource_key_ok(self, request: web.Request) -> bool:
        presented = presented_key(request)
        return presented is not None and hmac.compare_digest(presented, self.secrets.api_key)

    def _ephemeral_key(self, request: web.Request) -> IssuedKey | web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return error_response(401, "missing_api_key", "You didn't provide an API key. Use a Bearer token.")
        status, key = self.keys.check(auth[len("Bearer ") :])
        if status == "expired":
            self.expired_key_rejections += 1
            return error_response(401, "invalid_api_key", "Ephemeral key has expired. Mint a new client secret.")
        if key is None:
            return error_response(401, "invalid_api_key", "Incorrect API key provided.")
        return key

    # ------------------------------------------------------------------ minting

    async def _json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = await request.json()
        except ValueError:
            return error_response(400, "invalid_json", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return error_response(400, "invalid_json", "The request body must be a JSON object.")
        return body

    def _ttl(self, body: dict[str, Any], holder: dict[str, Any] | None) -> float | web.Response | None:
        expires_after = (holder or {}).get("expires_after")
        if not expires_after:
            return None
        seconds = expires_after.get("seconds") if isinstance(expires_after, dict) else None
        if not isinstance(seconds, int) or not MIN_TTL_S <= seconds <= MAX_TTL_S:
            return error_response(
                400,
                "invalid_value",
                f"expires_after.seconds must be an integer from {MIN_TTL_S} to {MAX_TTL_S}.",
                param="expires_after.seconds",
            )
        return float(seconds)

    def _injected_mint_failure(self, request: web.Request) -> web.Response | None:
        self.mint_requests += 1
        rejection = self.faults.take_mint_rejection()
        if rejection is None:
            return None
        status, retry_after = rejection
        codes = {401: "invalid_api_key", 403: "forbidden", 429: "rate_limit_exceeded"}
        response = error_response(
            status,
            codes.get(status, "server_error"),
            self.faults.failure_message(status, presented_key(request)),
            kind="invalid_request_error" if status < 500 else "server_error",
        )
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    async def _mint_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """What every mint endpoint checks first: the resource key, injected faults, a JSON body."""
        if not self._resource_key_ok(request):
            return error_response(401, "invalid_api_key", "Incorrect API key provided.")
        if (injected := self._injected_mint_failure(request)) is not None:
            return injected
        return await self._json_body(request)

    async def _issue(
        self, request: web.Request, flavor: Flavor, session: dict[str, Any], ttl: float | None
    ) -> IssuedKey | web.Response:
        try:
            return self.keys.issue(flavor, session, ttl, size=len(await request.read()))
        except KeyStoreFull as full:
            self.counters.keys_refused += 1
            return error_response(
                429,
                "too_many_keys",
                f"{full.reason} Use one, or retry after {full.retry_after_s} s, when one expires.",
                retry_after_s=full.retry_after_s,
            )

    async def mint_ga(self, request: web.Request) -> web.Response:
        body = await self._mint_body(request)
        if isinstance(body, web.Response):
            return body
        session = body.get("session") or {}
        if not isinstance(session, dict) or session.get("type") != "realtime":
            return error_response(
                400,
                "missing_required_parameter",
                "Missing required parameter: 'session.type' (expected 'realtime').",
                param="session.type",
            )
        ttl = self._ttl(body, body)
        if isinstance(ttl, web.Response):
            return ttl
        config = SessionConfig().merge_wire(session, "ga")
        key = await self._issue(request, "ga", session, ttl)
        if isinstance(key, web.Response):
            return key
        wire = config.to_wire("ga")
        wire.update(id=new_id("sess"), object="realtime.session")
        return web.json_response({"value": key.value, "expires_at": int(key.expires_at), "session": wire})

    async def mint_preview(self, request: web.Request) -> web.Response:
        if request.path.startswith("/openai/") and not request.query.get("api-version"):
            return error_response(400, "missing_api_version", "Missing required query parameter 'api-version'.")
        body = await self._mint_body(request)
        if isinstance(body, web.Response):
            return body
        ttl = self._ttl(body, body.get("client_secret"))
        if isinstance(ttl, web.Response):
            return ttl
        config = SessionConfig().merge_wire(body, "preview")
        key = await self._issue(request, "preview", body, ttl)
        if isinstance(key, web.Response):
            return key
        wire = config.to_wire("preview")
        wire.update(
            id=new_id("sess"),
            object="realtime.session",
            client_secret={"value": key.value, "expires_at": int(key.expires_at)},
        )
        return web.json_response(wire)

    # ------------------------------------------------------------------ calls

    async def call_ga(self, request: web.Request) -> web.Response:
        return await self._call(request, "ga")

    async def call_preview(self, request: web.Request) -> web.Response:
        if not request.query.get("model"):
            return error_response(400, "missing_model", "Missing required query parameter 'model'.")
        return await self._call(request, "preview")

    async def _call(self, request: web.Request, flavor: Flavor) -> web.Response:
        self.call_requests += 1
        if (status := self.faults.take_call_rejection()) is not None:
            return error_response(
                status,
                "invalid_api_key" if status == 401 else "server_error",
                self.faults.failure_message(status, presented_key(request)),
            )
        key = self._ephemeral_key(request)
        if isinstance(key, web.Response):
            return key
        if request.content_type != "application/sdp":
            return error_response(400, "invalid_content_type", "Expected an SDP offer as application/sdp.")
        offer = await request.text()
        if "m=audio" not in offer:
            return error_response(400, "invalid_offer", "The SDP offer has no audio section.")
        if (refusal := self.call_gate.refusal(self.calls.values(), webrtc=True)) is not None:
            return refusal
        config = SessionConfig().merge_wire(key.session, key.flavor)
        conversation = Conversation(flavor, config, self.recognizers, self.session_limit_s, self.faults)
        call = WebRTCCall(new_id("rtc"), conversation, self.loopback, self.faults)
        try:
            with self.call_gate.answering():
                answer = await call.answer(offer)
        except Exception as exc:  # aiortc's SDP parser raises ValueError, but also KeyError, AssertionError...
            await call.close()
            return error_response(
                400, "invalid_offer", f"The SDP offer could not be used ({exc.__class__.__name__}: {exc})."
            )
        self._forget_closed_calls()
        self.calls[call.call_id] = call
        self.call_gate.watch(call)
        location = f"{request.path.rstrip('/')}/{call.call_id}" if flavor == "ga" else f"/v1/realtimertc/{call.call_id}"
        return web.Response(status=201, text=answer, content_type="application/sdp", headers={"Location": location})

    # ------------------------------------------------------------------ WebSocket

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket form of a session: resource key (or an ephemeral key), then events."""
        flavor: Flavor = "ga"
        if request.path == "/openai/realtime":
            if not request.query.get("api-version") or not request.query.get("deployment"):
                return error_response(400, "missing_parameter", "Expected api-version and deployment query parameters.")
            flavor = "preview"
        elif request.path == "/openai/v1/realtime" and "api-version" in request.query:
            # As documented for Azure's v1 API: an api-version on a v1 URL is refused.
            return error_response(401, "invalid_api_version", "api-version is not supported on the v1 API.")
        elif request.headers.get("OpenAI-Beta") == "realtime=v1":
            flavor = "preview"
        session: dict[str, Any] = {}
        if not self._resource_key_ok(request):
            key = self._ephemeral_key(request)
            if isinstance(key, web.Response):
                return key
            session = key.session if key.flavor == flavor else {}
        if (refusal := self.call_gate.refusal(self.calls.values(), webrtc=False)) is not None:
            return refusal
        config = SessionConfig().merge_wire(session, flavor)
        call = WebSocketCall(
            new_id("ws"),
            Conversation(flavor, config, self.recognizers, self.session_limit_s, self.faults),
            self.faults,
            self.limits.ws_idle_timeout_s,
            self.counters.ws_idle_timed_out,
        )
        self._forget_closed_calls()
        self.calls[call.call_id] = call
        return await call.serve(request)

    # ------------------------------------------------------------------ control

    def _forget_closed_calls(self, keep: int = 200) -> None:
        closed = [call_id for call_id, call in self.calls.items() if call.closed.is_set()]
        for call_id in closed[: max(0, len(closed) - keep)]:
            del self.calls[call_id]

    def _control_refusal(self, request: web.Request) -> web.Response | None:
        if not is_loopback_address(request.remote or ""):
            return error_response(403, "forbidden", "The control API answers loopback clients only.")
        token = self.secrets.control_token
        presented = request.headers.get("X-VoicePilot-Control", "")
        if not token or not hmac.compare_digest(presented, token):
            return error_response(401, "invalid_control_token", "Missing or wrong control token.")
        return None

    async def control_calls(self, request: web.Request) -> web.Response:
        if (refusal := self._control_refusal(request)) is not None:
            return refusal
        keys_live, keys_remembered = self.keys.counts()
        return web.json_response(
            {
                "keysMinted": self.keys.minted,
                "expiredKeyRejections": self.expired_key_rejections,
                "mintRequests": self.mint_requests,
                "callRequests": self.call_requests,
                "keysLive": keys_live,
                "keysRemembered": keys_remembered,
                "limits": self.counters.snapshot(),
                "faults": self.faults.snapshot(),
                "calls": [self._describe(call) for call in self.calls.values()],
            }
        )

    @staticmethod
    def _describe(call: WebRTCCall | WebSocketCall) -> dict[str, Any]:
        conversation = call.conversation
        record = conversation.record
        return {
            "callId": call.call_id,
            "flavor": conversation.flavor,
            "transport": call.kind,
            "createdAt": conversation.created_at,
            "clientEvents": record.client_events,
            "functionCallOutputs": record.function_call_outputs,
            "instructions": conversation.config.instructions,
            "transcripts": [turn.transcript for turn in record.turns],
            "turns": [turn.wire() for turn in record.turns],
            "invalidEvents": record.invalid_events,
            "framesReceived": record.frames_received,
            "rtpAudioMs": round(record.rtp_audio_ms),
            "soundArrivals": [round(t, 4) for t in record.sound_arrivals],
            "soundDepartures": [round(t, 4) for t in record.sound_departures],
            "expired": record.expired,
            "truncations": [{"itemId": item, "audioEndMs": end} for item, end in record.truncations],
            "closed": call.closed.is_set(),
        }

    async def control_faults(self, request: web.Request) -> web.Response:
        if (refusal := self._control_refusal(request)) is not None:
            return refusal
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            self.faults.update(FaultSettings.model_validate(body))
        except ValidationError as exc:
            return error_response(400, "invalid_value", str(exc))
        return web.json_response({"faults": self.faults.snapshot()})

    async def control_actions(self, request: web.Request) -> web.Response:
        if (refusal := self._control_refusal(request)) is not None:
            return refusal
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        tool = body.get("callTool")
        if tool is not None and not (
            isinstance(tool, dict) and isinstance(tool.get("name"), str) and isinstance(tool.get("arguments"), dict)
        ):
            return error_response(400, "invalid_value", "callTool needs a name (string) and arguments (object).")
        tools = body.get("callTools")
        if tools is not None and not (
            isinstance(tools, list)
            and all(
                isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("arguments"), dict)
                for t in tools
            )
        ):
            return error_response(400, "invalid_value", "callTools needs a list of {name, arguments}.")
        live = [call for call in self.calls.values() if not call.closed.is_set()]
        for raw in body.get("sendEvents") or []:
            for call in live:
                call.send_raw(str(raw))
        answer: dict[str, Any] = {"liveCalls": len(live)}
        if tool is not None:
            answer["callIds"] = [call.conversation.call_tool(tool["name"], tool["arguments"]) for call in live]
        if tools is not None:
            planned = [(str(t["name"]), dict(t["arguments"])) for t in tools]
            answer["parallelCallIds"] = [call.conversation.call_tools(planned) for call in live]
        if body.get("closePeers"):
            for call in live:
                await call.close()
        return web.json_response(answer)
