"""The local stack's pure parts, without servers: event shapes, ESM rules, PutEvents packing."""

from __future__ import annotations

import base64
import doctest
import importlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local_stack.apigateway import (
    HttpRequest,
    InvalidProxyResponseError,
    build_proxy_event,
    parse_proxy_response,
)
from local_stack.event_source import WholeBatchFailedError, failed_message_ids
from records_service.putevents import (
    MAX_CALL_BYTES,
    MAX_ENTRIES_PER_CALL,
    CallFailedError,
    ContentTooLargeError,
    EntryPacker,
    PackedEntry,
    calls,
    entry_size,
    send,
)


def _request(target: str, body: bytes = b"", **headers: str) -> HttpRequest:
    return HttpRequest(
        "POST", target, [("Host", "127.0.0.1:3000"), *headers.items()], body, "10.0.0.1"
    )


# --- HTTP -> API Gateway REST proxy event ---------------------------------------------------


def test_the_event_splits_single_and_multi_value_query_parameters() -> None:
    event = build_proxy_event(
        _request("/records/actor/item?content_id=a%23b&content_id=c+d&flag"),
        stage="local",
        request_id="r1",
        now=0.0,
    )

    assert event["path"] == "/records/actor/item"
    assert event["queryStringParameters"] == {"content_id": "c d", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {"content_id": ["a#b", "c d"], "flag": [""]}
    assert event["pathParameters"] == {"proxy": "records/actor/item"}
    assert event["resource"] == "/{proxy+}"
    assert event["requestContext"]["path"] == "/local/records/actor/item"
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.1"


def test_the_event_has_nulls_where_api_gateway_sends_nulls() -> None:
    event = build_proxy_event(
        HttpRequest("GET", "/", [], b"", "127.0.0.1"), stage="local", request_id="r", now=0.0
    )

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["resource"] == "/"


def test_repeated_headers_keep_every_value_in_multi_value_headers() -> None:
    request = HttpRequest("GET", "/health", [("X-A", "1"), ("X-A", "2")], b"", "127.0.0.1")

    event = build_proxy_event(request, stage="local", request_id="r", now=0.0)

    assert event["headers"]["X-A"] == "2"
    assert event["multiValueHeaders"]["X-A"] == ["1", "2"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"


def test_a_body_is_text_and_non_utf8_bytes_become_replacement_characters() -> None:
    event = build_proxy_event(_request("/x", b'{"a": "\xff"}'), stage="s", request_id="r", now=0)

    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"a": "\ufffd"}'


def test_a_binary_media_type_body_is_base64_encoded() -> None:
    request = _request("/x", b"\x00\xff", **{"Content-Type": "image/png"})

    event = build_proxy_event(
        request, stage="s", request_id="r", now=0, binary_media_types=["image/*"]
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_a_proxy_response_merges_headers_and_decodes_a_base64_body() -> None:
    response = parse_proxy_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "Content-Length": "999"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"hi").decode(),
            "isBase64Encoded": True,
        }
    )

    assert response.status == 201
    assert response.body == b"hi"
    assert ("Set-Cookie", "a=1") in response.headers
    assert ("Set-Cookie", "b=2") in response.headers
    assert all(name != "Content-Length" for name, _ in response.headers)


@pytest.mark.parametrize(
    "payload",
    [None, "ok", {"statusCode": "200"}, {"statusCode": 99}, {"statusCode": 200, "body": 3}],
)
def test_a_malformed_proxy_response_is_refused(payload: Any) -> None:
    with pytest.raises(InvalidProxyResponseError):
        parse_proxy_response(payload)


# --- SQS event source: which messages failed -----------------------------------------------


@pytest.mark.parametrize(
    "payload", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}]
)
def test_a_response_without_failures_means_every_message_succeeded(payload: Any) -> None:
    assert failed_message_ids(payload, ["a", "b"]) == set()


def test_the_reported_ids_are_the_failed_ones() -> None:
    payload = {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}

    assert failed_message_ids(payload, ["a", "b", "c"]) == {"b", "c"}


@pytest.mark.parametrize(
    "payload",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "a"}]},
        {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]},
        {"batchItemFailures": "a"},
        ["a"],
    ],
)
def test_an_invalid_partial_response_fails_the_whole_batch(payload: Any) -> None:
    with pytest.raises(WholeBatchFailedError):
        failed_message_ids(payload, ["a", "b"])


# --- PutEvents packing and sending ---------------------------------------------------------


def _pack(contents: list[str], per_event: int, max_entry_bytes: int) -> list[PackedEntry[int]]:
    packer: EntryPacker[int] = EntryPacker(
        "actor", "RecordsSubmitted", "records.service", "bus", per_event, max_entry_bytes
    )
    entries: list[PackedEntry[int]] = []
    for line, content in enumerate(contents, start=1):
        entries.extend(packer.add(line, content))
    return entries + packer.flush()


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=1500), max_size=60),  # 2 bytes each
    per_event=st.integers(min_value=1, max_value=12),
    max_entry_bytes=st.integers(min_value=3200, max_value=20000),
)
def test_packing_keeps_every_line_once_and_every_limit(
    sizes: list[int], per_event: int, max_entry_bytes: int
) -> None:
    contents = [json.dumps({"item": {"name": "é" * size}}, ensure_ascii=False) for size in sizes]

    entries = _pack(contents, per_event, max_entry_bytes)

    assert [line for entry in entries for line in entry.tags] == list(range(1, len(sizes) + 1))
    for entry in entries:
        detail = json.loads(entry.entry["Detail"])
        assert [json.dumps(c, ensure_ascii=False) for c in detail["contents"]] == [
            contents[line - 1] for line in entry.tags
        ]
        assert entry.size == entry_size(entry.entry) <= max_entry_bytes
        assert 1 <= len(entry.tags) <= per_event
    for call in calls(entries):
        assert len(call) <= MAX_ENTRIES_PER_CALL
        assert sum(entry.size for entry in call) <= MAX_CALL_BYTES


def test_a_content_too_large_for_any_event_is_refused() -> None:
    packer: EntryPacker[int] = EntryPacker(
        "actor", "RecordsSubmitted", "records.service", "bus", 10, 1000
    )

    with pytest.raises(ContentTooLargeError):
        packer.add(1, json.dumps({"name": "x" * 1000}))


class FlakyEvents:
    """A PutEvents stub failing chosen entries a number of times."""

    def __init__(self, failures: dict[str, list[str]]) -> None:
        self.failures = failures  # detail -> error codes to answer, one per call
        self.calls: list[list[str]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls.append([entry["Detail"] for entry in Entries])
        results: list[dict[str, str]] = []
        for entry in Entries:
            codes = self.failures.get(entry["Detail"], [])
            if codes:
                results.append({"ErrorCode": codes.pop(0), "ErrorMessage": "nope"})
            else:
                results.append({"EventId": "id"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def _entries(*details: str) -> list[PackedEntry[int]]:
    return [
        PackedEntry({"Source": "s", "DetailType": "d", "Detail": detail}, [n], 10)
        for n, detail in enumerate(details, start=1)
    ]


def test_failed_entries_are_sent_again_until_accepted() -> None:
    stub = FlakyEvents({"b": ["ThrottlingException", "InternalFailure"]})

    result = send(stub, _entries("a", "b", "c"), max_attempts=5, sleep=lambda _: None)  # type: ignore[arg-type]

    assert [entry.entry["Detail"] for entry in result.accepted] == ["a", "c", "b"]
    assert result.failed == []
    assert stub.calls == [["a", "b", "c"], ["b"], ["b"]]
    assert result.retried_entries == 2


def test_entries_still_failing_after_the_last_attempt_are_returned_with_their_code() -> None:
    stub = FlakyEvents({"a": ["InternalFailure"] * 3, "b": ["MalformedDetail"]})

    result = send(stub, _entries("a", "b"), max_attempts=3, sleep=lambda _: None)  # type: ignore[arg-type]

    assert sorted((f.entry.entry["Detail"], f.code) for f in result.failed) == [
        ("a", "InternalFailure"),
        ("b", "MalformedDetail"),
    ]
    assert len(stub.calls) == 3  # MalformedDetail is not retried


@pytest.mark.parametrize(
    "module",
    ["apigateway", "docs_page", "event_source", "progress"],
)
def test_the_docstring_examples_run(module: str) -> None:
    imported = importlib.import_module(f"local_stack.{module}")

    failures, tried = doctest.testmod(imported, optionflags=doctest.ELLIPSIS)

    assert tried > 0
    assert failures == 0


def test_a_call_that_raises_reports_what_was_accepted_before_it() -> None:
    class FailsOnRetry(FlakyEvents):
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            if self.calls:
                raise ConnectionError("gone")
            return super().put_events(Entries)

    stub = FailsOnRetry({"b": ["ThrottlingException"]})

    with pytest.raises(CallFailedError) as raised:
        send(stub, _entries("a", "b", "c"), sleep=lambda _: None)  # type: ignore[arg-type]

    assert [e.entry["Detail"] for e in raised.value.result.accepted] == ["a", "c"]
    assert [e.entry["Detail"] for e in raised.value.unsent] == ["b"]
