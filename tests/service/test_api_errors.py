"""Bad input of every kind answers a 4xx whose body names the problem, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from records_service import names
from tests.service.helpers import Api, actor, client_error, review


def _assert_error(answer: object, status: int, error: str) -> dict[str, object]:
    assert getattr(answer, "status") == status, getattr(answer, "raw_body")  # noqa: B009
    body: dict[str, object] = getattr(answer, "body")  # noqa: B009
    assert body["error"] == error
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def test_malformed_json_is_a_400_saying_where(api: Api) -> None:
    answer = api("PUT", "/records/actor", body='{"partition_ids": [], "content_ids": [')

    body = _assert_error(answer, 400, "malformed_json")
    assert "position" in str(body["message"])


def test_a_body_that_is_not_an_object_is_a_422(api: Api) -> None:
    answer = api("PUT", "/records/actor", body="[1, 2]")

    _assert_error(answer, 422, "validation_error")


def test_a_missing_body_is_a_422(api: Api) -> None:
    answer = api("PUT", "/records/actor")

    _assert_error(answer, 422, "validation_error")


def test_a_wrong_type_is_a_422_naming_the_field(api: Api) -> None:
    answer = api("PUT", "/records/actor", body={**actor("a1"), "item": {"id": "a1", "name": 5}})

    body = _assert_error(answer, 422, "validation_error")
    assert body["detail"] == [
        {
            "loc": ["body", "item", "name"],
            "type": "string_type",
            "msg": "Input should be a valid string",
        }
    ]
    assert "body.item.name" in str(body["message"])


def test_a_missing_field_is_a_422_naming_it(api: Api) -> None:
    answer = api(
        "PUT", "/records/review", body={"partition_ids": ["a1"], "content_ids": ["x"], "item": {}}
    )

    body = _assert_error(answer, 422, "validation_error")
    assert "body.item.created: Field required" in str(body["message"])


def test_an_unknown_attribute_in_the_item_is_a_422(api: Api) -> None:
    answer = api("PUT", "/records/actor", body=actor("a1", rating=5))

    body = _assert_error(answer, 422, "validation_error")
    assert "body.item.rating" in str(body["message"])


def test_an_unknown_key_in_the_content_is_a_422(api: Api) -> None:
    answer = api("PUT", "/records/actor", body={**actor("a1"), "expirty": "2030-01-01"})

    body = _assert_error(answer, 422, "validation_error")
    assert "body.expirty" in str(body["message"])


def test_a_body_is_read_as_json_whatever_its_declared_media_type(api: Api) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    ok = api("PUT", "/records/actor", body=json.dumps(actor("a1")), headers=form)
    bad = api("PUT", "/records/actor", body="id=a1", headers={"Content-Type": "text/plain"})

    assert ok.status == 200
    _assert_error(bad, 400, "malformed_json")


def test_an_unknown_content_type_is_a_404_listing_the_known_ones(api: Api) -> None:
    answer = api("PUT", "/records/film", body=actor("a1"))

    body = _assert_error(answer, 404, "unknown_content_type")
    assert body["detail"] == {"known": ["actor", "cast-actor", "cast-review", "review"]}


def test_an_unknown_route_is_a_404(api: Api) -> None:
    answer = api("GET", "/nowhere")

    _assert_error(answer, 404, "no_route")


def test_an_unknown_attribute_in_an_update_is_a_400_naming_it(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {"rating": 5}},
    )

    body = _assert_error(answer, 400, "invalid_attribute")
    assert body["detail"] == {"field": "rating", "kind": "InvalidAttributeError"}


@pytest.mark.parametrize("name", ["_object_version", "_timestamp", "_ttl", "PARTITION_KEY"])
def test_an_update_of_a_reserved_name_is_a_400(api: Api, name: str) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api(
        "PATCH", "/records/actor/item", query={"content_id": "a1"}, body={"set_commands": {name: 1}}
    )

    body = _assert_error(answer, 400, "invalid_attribute")
    assert name in str(body["message"])


def test_an_update_with_a_wrongly_typed_value_is_a_400(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {"name": {"first": "Steve"}}},
    )

    assert answer.status in (400, 422)
    assert "name" in answer.body["message"]


def test_an_unknown_key_in_an_update_is_a_422(api: Api) -> None:
    answer = api(
        "PATCH", "/records/actor/item", query={"content_id": "a1"}, body={"set": {"name": "x"}}
    )

    _assert_error(answer, 422, "validation_error")


def test_an_item_over_400_kb_is_a_413(api: Api) -> None:
    big = review("a1", "2023-01-01T00:00:00+00:00", text="x" * 420_000)

    answer = api("PUT", "/records/review", body=big)

    body = _assert_error(answer, 413, "item_too_large")
    assert body["detail"]["limit"] == 400 * 1024  # type: ignore[index]


def test_a_partition_key_over_2048_bytes_is_a_400(api: Api) -> None:
    answer = api("PUT", "/records/review", body=review("a" * 3000, "2023-01-01T00:00:00+00:00"))

    _assert_error(answer, 400, "invalid_key")


def test_an_unreadable_cursor_is_a_400(api: Api) -> None:
    answer = api("GET", "/records/actor", query={"cursor": "not-a-cursor"})

    _assert_error(answer, 400, "invalid_cursor")


def test_a_cursor_from_another_partition_is_a_400(api: Api) -> None:
    for created in ("2023-01-01T00:00:00+00:00", "2023-02-01T00:00:00+00:00"):
        assert api("PUT", "/records/review", body=review("a1", created)).status == 200
    cursor = api("GET", "/records/review", query={"partition_id": "a1", "limit": "1"}).body[
        "cursor"
    ]

    answer = api("GET", "/records/review", query={"partition_id": "a2", "cursor": cursor})

    _assert_error(answer, 400, "invalid_cursor")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("name", "expected field:op[:value]"),
        ("name:like:x", "unknown operator 'like'"),
        ("rating:eq:5", "no attribute 'rating'"),
        ("name:exists:x", "takes no value"),
        ("name:eq", "needs a value"),
        ("1name:eq:x", "not an attribute name"),
    ],
)
def test_a_malformed_filter_is_a_400_saying_why(api: Api, raw: str, says: str) -> None:
    answer = api("GET", "/records/actor", query={"filter": raw})

    assert answer.status == 400
    assert says in answer.body["message"]


@pytest.mark.parametrize(
    "raw",
    [
        "created:gt:yesterday",
        "created:between:[1]",
        "created:between:not-json",
        "created:in:{}",
    ],
)
def test_a_filter_value_that_does_not_fit_the_field_is_a_400(api: Api, raw: str) -> None:
    answer = api("GET", "/records/review", query={"partition_id": "a1", "filter": raw})

    _assert_error(answer, 400, "invalid_filter")


def test_prefix_and_range_together_are_a_400(api: Api) -> None:
    answer = api("GET", "/records/review", query={"prefix": "2023", "start": "a", "end": "b"})

    _assert_error(answer, 400, "invalid_range")


def test_a_range_without_its_end_is_a_400(api: Api) -> None:
    answer = api("GET", "/records/review", query={"start": "2023"})

    _assert_error(answer, 400, "invalid_range")


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"order": "sideways"}],
)
def test_bad_paging_parameters_are_a_422(api: Api, query: dict[str, str]) -> None:
    answer = api("GET", "/records/actor", query=query)

    body = _assert_error(answer, 422, "validation_error")
    assert str(body["message"]).startswith("query.")


def test_a_malformed_if_match_is_a_422_naming_the_header(api: Api) -> None:
    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {}},
        headers={"If-Match": "yesterday"},
    )

    body = _assert_error(answer, 422, "validation_error")
    assert str(body["message"]).startswith("header.if-match")


def test_if_match_contradicting_the_body_version_is_a_400(api: Api) -> None:
    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"current_version": 2},
        headers={"If-Match": '"3"'},
    )

    _assert_error(answer, 400, "conflicting_versions")


def test_an_empty_batch_is_a_422(api: Api) -> None:
    _assert_error(
        api("POST", "/records/actor/batch", body={"contents": []}), 422, "validation_error"
    )


def test_a_batch_over_the_limit_is_a_422(api: Api) -> None:
    contents = [actor(f"a{i}") for i in range(101)]

    _assert_error(
        api("POST", "/records/actor/batch", body={"contents": contents}), 422, "validation_error"
    )


def test_one_bad_content_refuses_the_whole_batch_and_writes_nothing(api: Api) -> None:
    contents = [actor("a1"), review("a" * 3000, "x")]

    answer = api("POST", "/records/actor/batch", body={"contents": contents})

    assert answer.status == 422
    assert "body.contents.1.item" in answer.body["message"]
    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).status == 404


def test_a_batch_with_an_unstorable_content_is_refused_before_writing(api: Api) -> None:
    contents = [actor("a1"), actor("b" * 1100)]

    answer = api("POST", "/records/actor/batch", body={"contents": contents})

    _assert_error(answer, 400, "invalid_key")
    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).status == 404


def test_a_batch_get_over_the_limit_is_a_422(api: Api) -> None:
    keys = [{"partition_ids": [], "content_ids": [str(i)]} for i in range(101)]

    _assert_error(
        api("POST", "/records/actor/batch-get", body={"keys": keys}), 422, "validation_error"
    )


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"partition_ids": [], "content_ids": ["x"], "item": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_json_nested_too_deeply_is_a_400_malformed_json(api: Api, body: str) -> None:
    answer = api("PUT", "/records/actor", body=body)

    assert answer.status == 400
    assert answer.body["error"] == "malformed_json"


@pytest.mark.parametrize("where", ["item", "id"])
def test_a_lone_surrogate_is_a_400(api: Api, where: str) -> None:
    content = actor("a1", name="\ud800") if where == "item" else actor("\ud800")

    answer = api("PUT", "/records/actor", body=json.dumps(content))

    assert answer.status == 400, answer.raw_body
    assert answer.body["error"] in {"invalid_attribute", "invalid_key"}


def test_a_batch_dynamodb_refuses_is_a_400_not_a_500(
    api: Api, wrap_dynamodb: Callable[..., Any]
) -> None:
    def refuse(real: Any, **kwargs: Any) -> Any:
        raise client_error("ValidationException", "BatchWriteItem", "Item size too large")

    wrap_dynamodb(batch_write_item=refuse)

    answer = api("POST", "/records/actor/batch", body={"contents": [actor("a1")]})

    assert answer.status == 400
    assert answer.body["error"] == "rejected_by_dynamodb"


def test_a_batch_write_dynamodb_keeps_throttling_is_a_503_naming_the_contents_not_written(
    api: Api, wrap_dynamodb: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pydantic_dynamo.drivers.time.sleep", lambda _: None)

    def leave_stuck(real: Any, RequestItems: dict[str, Any], **kwargs: Any) -> Any:  # noqa: N803
        ((table, requests),) = RequestItems.items()
        sent = [r for r in requests if "stuck" not in r["PutRequest"]["Item"][names.SORT_KEY]["S"]]
        stuck = [r for r in requests if r not in sent]
        if sent:
            real.batch_write_item(RequestItems={table: sent}, **kwargs)
        return {"UnprocessedItems": {table: stuck} if stuck else {}}

    wrap_dynamodb(batch_write_item=leave_stuck)

    answer = api("POST", "/records/actor/batch", body={"contents": [actor("a1"), actor("stuck")]})

    assert answer.status == 503
    assert answer.body["error"] == "not_written"
    assert answer.body["detail"]["not_written"] == [{"partition_ids": [], "content_ids": ["stuck"]}]
    assert answer.headers["Retry-After"] == "1"


def test_a_batch_get_dynamodb_keeps_throttling_is_a_503_naming_the_keys_not_read(
    api: Api, wrap_dynamodb: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pydantic_dynamo.drivers.time.sleep", lambda _: None)

    def never_read(real: Any, RequestItems: dict[str, Any], **kwargs: Any) -> Any:  # noqa: N803
        return {"Responses": {}, "UnprocessedKeys": RequestItems}

    wrap_dynamodb(batch_get_item=never_read)

    answer = api(
        "POST",
        "/records/actor/batch-get",
        body={"keys": [{"partition_ids": [], "content_ids": ["a1"]}]},
    )

    assert answer.status == 503
    assert answer.body["error"] == "not_read"
    assert answer.body["detail"]["not_read"] == [{"partition_ids": [], "content_ids": ["a1"]}]
    assert "written" not in answer.body["message"]


def test_range_ends_of_different_lengths_are_a_400(api: Api) -> None:
    answer = api("GET", "/records/actor", query={"start": ["a", "b"], "end": ["c"]})

    assert answer.status == 400
    assert answer.body["error"] == "invalid_range"


def _invalid_records(output: str) -> list[float]:
    for line in output.splitlines():
        if '"_aws"' in line:
            return list(json.loads(line).get(names.METRIC_INVALID_RECORDS, []))
    return []


def test_a_refused_batch_counts_each_of_its_contents_as_invalid(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = {**actor("a3"), "item": {"id": "a3"}}

    api("POST", "/records/actor/batch", body={"contents": [actor("a1"), actor("a2"), bad]})

    assert _invalid_records(capsys.readouterr().out) == [3.0]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/records/actor/batch-get", {"keys": "nope"}),
        ("DELETE", "/records/actor/item", None),
        ("GET", "/records/actor", None),
    ],
)
def test_a_refused_read_or_delete_counts_no_invalid_records(
    api: Api, capsys: pytest.CaptureFixture[str], method: str, path: str, body: Any
) -> None:
    answer = api(method, path, body=body, query={"limit": "0"})

    assert 400 <= answer.status < 500
    assert _invalid_records(capsys.readouterr().out) == []


def test_a_write_to_a_missing_item_counts_no_invalid_record(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = api(
        "PATCH", "/records/actor/item", query={"content_id": "zz"}, body={"set_commands": {}}
    )

    assert answer.status == 404
    assert _invalid_records(capsys.readouterr().out) == []
