"""``PUT /records/{type}`` with ``If-None-Match: *``: create only, 412 with the stored version
as ETag when an item is there; documented in the OpenAPI document."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from tests.service.helpers import Api, actor

CREATE_ONLY = {"If-None-Match": "*"}


def test_if_none_match_creates_an_absent_item_as_version_1(api: Api) -> None:
    answer = api("PUT", "/records/actor", body=actor("a1"), headers=CREATE_ONLY)

    assert answer.status == 201
    assert answer.headers["ETag"] == '"1"'
    assert answer.body == {**actor("a1", review=None), "current_version": 1, "expiry": None}
    stored = api("GET", "/records/actor/item", query={"content_id": "a1"})
    assert stored.body["item"]["name"] == "Steve Buscemi"


def test_if_none_match_over_a_stored_item_is_a_412_with_its_version(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))
    api("PUT", "/records/actor", body=actor("a1", "Second"))  # version 2

    answer = api("PUT", "/records/actor", body=actor("a1", "Third"), headers=CREATE_ONLY)

    assert answer.status == 412
    assert answer.body["error"] == "item_exists"
    assert answer.body["detail"] == {"actual_version": 2}
    assert answer.headers["ETag"] == '"2"'
    stored = api("GET", "/records/actor/item", query={"content_id": "a1"})
    assert stored.body["item"]["name"] == "Second"


def test_if_none_match_over_an_expired_item_creates(api: Api) -> None:
    api("PUT", "/records/actor", body={**actor("a1", "Gone"), "expiry": "2001-01-01T00:00:00Z"})

    answer = api("PUT", "/records/actor", body=actor("a1", "New"), headers=CREATE_ONLY)

    assert answer.status == 201
    assert answer.body["item"]["name"] == "New"


def test_if_none_match_with_if_match_is_refused(api: Api) -> None:
    answer = api(
        "PUT", "/records/actor", body=actor("a1"), headers={**CREATE_ONLY, "If-Match": '"1"'}
    )

    assert answer.status == 400
    assert answer.body["error"] == "invalid_precondition"
    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).status == 404


def test_if_none_match_with_a_version_in_the_body_is_refused(api: Api) -> None:
    answer = api(
        "PUT", "/records/actor", body={**actor("a1"), "current_version": 3}, headers=CREATE_ONLY
    )

    assert answer.status == 400
    assert answer.body["error"] == "invalid_precondition"


def test_if_none_match_takes_only_a_star(api: Api) -> None:
    answer = api("PUT", "/records/actor", body=actor("a1"), headers={"If-None-Match": '"1"'})

    assert answer.status == 422


def test_if_match_keeps_its_meaning(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    stale = api("PUT", "/records/actor", body=actor("a1"), headers={"If-Match": '"7"'})
    current = api("PUT", "/records/actor", body=actor("a1"), headers={"If-Match": '"1"'})

    assert stale.status == 409
    assert current.status == 200
    assert current.headers["ETag"] == '"2"'


def test_the_openapi_document_describes_if_none_match_and_its_answers(api: Api) -> None:
    document = json.loads(api("GET", "/openapi.json").raw_body)
    validate(document)

    put = document["paths"]["/records/actor"]["put"]
    headers = {p["name"]: p for p in put["parameters"] if p["in"] == "header"}
    assert set(headers) >= {"if-match", "if-none-match"}
    assert "create" in headers["if-none-match"]["description"]
    assert {"200", "201", "409", "412"} <= set(put["responses"])
    schema = put["responses"]["412"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorBody"}
