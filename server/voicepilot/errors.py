"""Error classification shared by every layer.

Every failure that can reach the user is a :class:`VoicePilotError` with one of a fixed set of
classes, a message that says what happened and a next step that says what to do about it.
The session manager picks its recovery strategy from the class, and the editor shows the
message and the next step.
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(str, Enum):
    AUTH = "auth"
    QUOTA = "quota"
    NETWORK = "network"
    MEDIA = "media"
    DEVICE = "device"
    PROTOCOL = "protocol"
    CONFIG = "config"


_DEFAULT_NEXT_STEP: dict[ErrorKind, str] = {
    ErrorKind.AUTH: "Check the API key (VoicePilot: Set API Key) or sign in again.",
    ErrorKind.QUOTA: "Wait a moment and try again, or raise the deployment's quota.",
    ErrorKind.NETWORK: "Check the endpoint setting and your network connection, then try again.",
    ErrorKind.MEDIA: "Try again; if it persists, run VoicePilot: Run Connection Diagnostics.",
    ErrorKind.DEVICE: "Check the audio device (VoicePilot: Select Microphone) and try again.",
    ErrorKind.PROTOCOL: "Update VoicePilot or report the problem with the logs attached.",
    ErrorKind.CONFIG: "Fix the setting named in the message.",
}


class VoicePilotError(Exception):
    """A classified, user-presentable error."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        next_step: str | None = None,
        retry_after_s: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.next_step = next_step or _DEFAULT_NEXT_STEP[kind]
        # A finer cause within the class (e.g. "dtls_failed", "session_expired") for recovery.
        self.code = code
        # The service's Retry-After, when it gave one (429): the earliest sensible retry.
        self.retry_after_s = retry_after_s

    def describe(self) -> str:
        """One line for a person: what happened, then what to do."""
        return f"{self.message} {self.next_step}"

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"


def auth_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    return VoicePilotError(ErrorKind.AUTH, message, next_step, code=code)


def config_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    return VoicePilotError(ErrorKind.CONFIG, message, next_step, code=code)


def network_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    return VoicePilotError(ErrorKind.NETWORK, message, next_step, code=code)


def media_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    return VoicePilotError(ErrorKind.MEDIA, message, next_step, code=code)


def protocol_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    return VoicePilotError(ErrorKind.PROTOCOL, message, next_step, code=code)


def quota_error(message: str, next_step: str | None = None, code: str | None = None) -> VoicePilotError:
    return VoicePilotError(ErrorKind.QUOTA, message, next_step, code=code)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the delta form; the HTTP-date form is not used by these services)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify_http_status(status: int, detail: str, retry_after: str | None = None) -> VoicePilotError:
    """Map an HTTP failure from a key-mint or SDP endpoint to an error class."""
    if status in (401, 403):
        return auth_error(f"The service refused the credentials ({status}: {detail}).")
    if status == 429:
        error = quota_error(f"The service is rate limiting requests ({detail}).")
        error.retry_after_s = parse_retry_after(retry_after)
        return error
    if status == 404:
        return config_error(
            f"The endpoint was not found ({detail}).",
            "Check the endpoint, deployment and API version settings.",
        )
    if 400 <= status < 500:
        return protocol_error(f"The service rejected the request ({status}: {detail}).")
    return network_error(f"The service failed ({status}: {detail}).", "Try again in a moment.")
