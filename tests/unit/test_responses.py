"""The response sequencer: one response.create after a response's calls all have outputs, own
requests accounted for (refused ones retried after the next response.done), and failures classified."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voicepilot.errors import ErrorKind
from voicepilot.realtime import events as ev
from voicepilot.realtime.connection import TurnTracker
from voicepilot.realtime.responses import REQUEST_TAG, ResponseSequencer, failure_of


def response(response_id: str, status: str = "completed", metadata: dict[str, Any] | None = None) -> ev.ResponseInfo:
    return ev.ResponseInfo(id=response_id, status=status, metadata=metadata)


def answer(request: ev.ResponseCreate, response_id: str) -> ev.ResponseInfo:
    """The response the service starts for ``request``, echoing its metadata."""
    assert request.response is not None
    return response(response_id, metadata=request.response["metadata"])


def refusal(request: ev.ResponseCreate | None) -> ev.ErrorDetail:
    return ev.ErrorDetail(
        code="conversation_already_has_active_response",
        message="Conversation already has an active response in progress: resp_x.",
        event_id=request.event_id if request is not None else None,
    )


def test_an_output_before_response_done_waits_for_it_then_one_request_goes() -> None:
    seq = ResponseSequencer()
    seq.on_response_created(response("resp_1"))
    seq.add_call("call_1", "resp_1")
    assert seq.output_sent("call_1") is None  # the response is still active: the service would refuse
    assert seq.busy
    request = seq.on_response_done(response("resp_1"))
    assert request is not None
    assert request.response == {"metadata": {REQUEST_TAG: request.event_id}}
    assert seq.own_requests == 1
    assert seq.on_response_created(answer(request, "resp_2")) is True
    assert seq.own_requests == 0
    assert seq.on_response_done(response("resp_2")) is None
    assert not seq.busy


def test_parallel_calls_get_one_request_after_the_last_output() -> None:
    seq = ResponseSequencer()
    seq.on_response_created(response("resp_1"))
    seq.add_call("call_a", "resp_1")
    seq.add_call("call_b", "resp_1")
    assert seq.on_response_done(response("resp_1")) is None  # no output yet
    assert seq.output_sent("call_b") is None
    request = seq.output_sent("call_a")
    assert request is not None
    assert seq.output_sent("call_a") is None  # an output reported twice asks for nothing more
    assert seq.own_requests == 1


def test_a_refused_request_is_accounted_for_and_retried_after_the_next_response_done() -> None:
    seq = ResponseSequencer()
    seq.on_response_created(response("resp_1"))
    seq.add_call("call_1", "resp_1")
    seq.output_sent("call_1")
    request = seq.on_response_done(response("resp_1"))
    assert request is not None
    # The service had just started a response of its own (the user spoke), and refused ours.
    seq.on_response_created(response("resp_vad"))
    assert seq.on_error(refusal(request)) in ("own", "misattributed")
    assert seq.own_requests == 0
    assert seq.refused == 1
    assert seq.busy
    retry = seq.on_response_done(response("resp_vad"))
    assert retry is not None
    assert retry.event_id != request.event_id
    assert seq.on_response_created(answer(retry, "resp_2")) is True
    seq.on_response_done(response("resp_2"))
    assert (seq.own_requests, seq.busy) == (0, False)


def test_without_metadata_echo_a_wrong_guess_is_corrected_by_the_refusal() -> None:
    seq = ResponseSequencer()
    request = seq.request()
    assert request is not None
    assert seq.on_response_created(response("resp_vad")) is True  # guessed to be ours
    assert seq.on_error(refusal(request)) == "misattributed"
    assert seq.own_requests == 0
    assert seq.on_response_done(response("resp_vad")) is not None  # the refused request, again


def test_a_turn_tracker_whose_guess_was_wrong_still_goes_quiet() -> None:
    turns = TurnTracker()
    turns.unanswered_commits = 1  # the user's turn, answered by the service's own response
    request = turns.responses.request()
    assert request is not None
    turns.on_response_created(response("resp_vad"))
    assert turns.on_error(refusal(request)) is True
    assert turns.unanswered_commits == 0
    retry = turns.responses.on_response_done(response("resp_vad"))
    assert retry is not None
    turns.on_response_created(response("resp_2"))
    turns.responses.on_response_done(response("resp_2"))
    assert turns.quiet


def test_metadata_tells_own_responses_from_the_services_once_it_is_echoed() -> None:
    seq = ResponseSequencer()
    first = seq.request()
    assert first is not None
    assert seq.on_response_created(answer(first, "resp_1")) is True
    seq.on_response_done(response("resp_1"))
    second = seq.request()
    assert second is not None
    # The service's own response (server VAD) is not taken for ours: the counter stays honest.
    assert seq.on_response_created(response("resp_vad")) is False
    assert seq.own_requests == 1
    assert seq.on_error(refusal(second)) == "own"
    assert seq.own_requests == 0


def test_without_metadata_echo_the_oldest_request_is_answered() -> None:
    seq = ResponseSequencer()
    request = seq.request()
    assert request is not None
    assert seq.on_response_created(response("resp_1")) is True
    assert seq.own_requests == 0


def test_a_refusal_without_an_event_id_still_counts_against_an_own_request() -> None:
    seq = ResponseSequencer()
    assert seq.request() is not None
    assert seq.on_error(refusal(None)) == "own"
    assert seq.own_requests == 0
    assert seq.busy  # owed again


def test_other_errors_are_not_taken_for_own_requests_and_own_errors_are_not_retried() -> None:
    seq = ResponseSequencer()
    request = seq.request()
    assert request is not None
    assert seq.on_error(ev.ErrorDetail(code="invalid_value", event_id="someone_else")) == "other"
    assert seq.own_requests == 1
    assert seq.on_error(ev.ErrorDetail(code="invalid_value", event_id=request.event_id)) == "own"
    assert (seq.own_requests, seq.busy) == (0, False)


def test_a_request_during_a_response_goes_once_it_is_done() -> None:
    seq = ResponseSequencer()
    seq.on_response_created(response("resp_1"))
    assert seq.request() is None
    assert seq.request() is None
    request = seq.on_response_done(response("resp_1"))
    assert request is not None  # one request for both asks
    assert seq.own_requests == 1


@pytest.mark.parametrize("status", ["cancelled", "failed"])
def test_calls_of_a_cancelled_or_failed_response_get_no_follow_up(status: str) -> None:
    seq = ResponseSequencer()
    seq.on_response_created(response("resp_1"))
    seq.add_call("call_1", "resp_1")
    assert seq.on_response_done(response("resp_1", status)) is None
    assert seq.output_sent("call_1") is None
    assert not seq.busy


def test_a_lost_request_is_forgotten() -> None:
    seq = ResponseSequencer()
    request = seq.request()
    assert request is not None
    seq.forget(request)
    assert (seq.own_requests, seq.busy) == (0, False)


def test_names_come_from_output_item_added_when_the_arguments_event_has_none() -> None:
    seq = ResponseSequencer()
    seq.note_item({"type": "function_call", "id": "item_1", "call_id": "call_1", "name": "go_to_line"})
    assert seq.name_of("item_1", "call_1", None) == "go_to_line"
    assert seq.name_of("item_other", "call_1", None) == "go_to_line"
    assert seq.name_of("item_1", "call_1", "given") == "given"
    assert seq.name_of("item_x", "call_x", None) == ""


@pytest.mark.parametrize(
    ("details", "status", "kind", "said"),
    [
        (
            {"type": "failed", "error": {"code": "insufficient_quota", "message": "Out."}},
            "failed",
            ErrorKind.QUOTA,
            "Out",
        ),
        (
            {"type": "failed", "error": {"type": "rate_limit_exceeded", "message": "Slow"}},
            "failed",
            ErrorKind.QUOTA,
            "Slow",
        ),
        ({"type": "incomplete", "reason": "content_filter"}, "incomplete", ErrorKind.PROTOCOL, "content filter"),
        ({"type": "incomplete", "reason": "max_output_tokens"}, "incomplete", ErrorKind.CONFIG, "max_output_tokens"),
        ({"type": "failed", "error": {"type": "server_error", "message": "Boom"}}, "failed", ErrorKind.MEDIA, "Boom"),
        (None, "failed", ErrorKind.MEDIA, "server error"),
    ],
)
def test_failed_and_incomplete_responses_are_classified_with_the_services_message(
    details: dict[str, Any] | None, status: str, kind: ErrorKind, said: str
) -> None:
    error = failure_of(ev.ResponseInfo(id="resp_1", status=status, status_details=details))
    assert error is not None
    assert error.kind is kind
    assert said in error.message


@pytest.mark.parametrize("status", ["completed", "cancelled", "in_progress"])
def test_completed_and_cancelled_responses_are_no_failure(status: str) -> None:
    assert failure_of(ev.ResponseInfo(id="resp_1", status=status)) is None


def test_preview_events_without_name_or_delta_parse() -> None:
    done = ev.parse_server_event(
        json.dumps(
            {
                "type": "response.function_call_arguments.done",
                "response_id": "resp_1",
                "item_id": "item_1",
                "call_id": "call_1",
                "arguments": "{}",
            }
        )
    )
    assert isinstance(done, ev.FunctionCallArgumentsDone)
    assert done.name is None
    delta = ev.parse_server_event(
        json.dumps({"type": "conversation.item.input_audio_transcription.delta", "item_id": "item_1"})
    )
    assert isinstance(delta, ev.InputTranscriptionDelta)
    assert delta.delta == ""
