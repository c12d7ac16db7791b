"""The HTTP API, through its Lambda handler, as API Gateway calls it: every route."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from tests.service.helpers import Api, actor, review


def test_put_answers_the_stored_content_and_its_version_as_etag(api: Api) -> None:
    answer = api("PUT", "/records/actor", body=actor("a1"))

    assert answer.status == 200
    assert answer.headers["ETag"] == '"1"'
    assert answer.body == {**actor("a1", review=None), "current_version": 1, "expiry": None}


def test_get_item_returns_what_put_stored(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1", "Daniel Day-Lewis"))

    answer = api("GET", "/records/actor/item", query={"content_id": "a1"})

    assert answer.status == 200
    assert answer.body["item"] == {"id": "a1", "name": "Daniel Day-Lewis", "review": None}
    assert answer.headers["ETag"] == '"1"'


def test_get_item_takes_repeated_parameters_as_several_ids(api: Api) -> None:
    api("PUT", "/records/review", body=review("a1", "2023-05-01T10:00:00+00:00"))
    content = {**review("a1", "2023-05-01T10:00:00+00:00"), "content_ids": ["2023", "05"]}
    api("PUT", "/records/review", body=content)

    answer = api(
        "GET", "/records/review/item", query={"partition_id": "a1", "content_id": ["2023", "05"]}
    )

    assert answer.status == 200
    assert answer.body["content_ids"] == ["2023", "05"]


def test_ids_containing_the_separator_round_trip(api: Api) -> None:
    content = {**actor("a#1"), "content_ids": ["a#1", "b\\#"]}
    api("PUT", "/records/actor", body=content)

    answer = api("GET", "/records/actor/item", query={"content_id": ["a#1", "b\\#"]})

    assert answer.status == 200
    assert answer.body["content_ids"] == ["a#1", "b\\#"]


def test_put_with_expiry_keeps_it_to_whole_seconds(api: Api) -> None:
    answer = api("PUT", "/records/actor", body={**actor("a1"), "expiry": "2999-01-01T00:00:00.9Z"})

    assert answer.body["expiry"] == "2999-01-01T00:00:00Z"


def test_batch_put_writes_every_content(api: Api) -> None:
    contents = [actor(f"a{i}") for i in range(30)]

    answer = api("POST", "/records/actor/batch", body={"contents": contents})

    assert answer.status == 200
    assert answer.body == {"written": 30}
    listed = api("GET", "/records/actor", query={"limit": "100"})
    assert len(listed.body["contents"]) == 30


def test_batch_get_returns_the_contents_found_and_the_keys_missing(api: Api) -> None:
    api("POST", "/records/actor/batch", body={"contents": [actor("a1"), actor("a2")]})
    keys = [
        {"partition_ids": [], "content_ids": ["a1"]},
        {"partition_ids": [], "content_ids": ["a2"]},
        {"partition_ids": [], "content_ids": ["nobody"]},
        {"partition_ids": [], "content_ids": ["a1"]},
    ]

    answer = api("POST", "/records/actor/batch-get", body={"keys": keys})

    assert answer.status == 200
    assert sorted(c["content_ids"][0] for c in answer.body["contents"]) == ["a1", "a2"]
    assert answer.body["missing"] == [{"partition_ids": [], "content_ids": ["nobody"]}]


def test_patch_with_if_match_updates_and_answers_the_new_version(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {"review": "Talented"}},
        headers={"If-Match": '"1"'},
    )

    assert answer.status == 200
    assert answer.body["item"]["review"] == "Talented"
    assert answer.body["current_version"] == 2
    assert answer.headers["ETag"] == '"2"'


def test_patch_with_current_version_in_the_body_locks_too(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {"name": "Renamed"}, "current_version": 1},
    )

    assert answer.status == 200
    assert answer.body["current_version"] == 2


def test_patch_with_a_stale_version_is_a_409_naming_both_versions(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))
    api("PATCH", "/records/actor/item", query={"content_id": "a1"}, body={"set_commands": {}})

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {"review": "late"}},
        headers={"If-Match": '"1"'},
    )

    assert answer.status == 409
    assert answer.body["error"] == "version_conflict"
    assert answer.body["detail"] == {"expected_version": 1, "actual_version": 2}
    assert answer.headers["ETag"] == '"2"'


def test_patch_of_a_missing_item_is_a_404(api: Api) -> None:
    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "ghost"},
        body={"set_commands": {"review": "x"}},
    )

    assert answer.status == 404
    assert answer.body["error"] == "not_found"


def test_patch_of_a_missing_item_with_a_version_is_a_404(api: Api) -> None:
    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "ghost"},
        body={"set_commands": {"review": "x"}},
        headers={"If-Match": '"3"'},
    )

    assert answer.status == 404


def test_patch_can_increment_append_and_remove(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1", review="meh"))

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"remove_attrs": ["review"]},
    )

    assert answer.status == 200
    assert answer.body["item"]["review"] is None


def test_delete_removes_the_item(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api("DELETE", "/records/actor/item", query={"content_id": "a1"})

    assert answer.status == 204
    assert answer.raw_body == ""
    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).status == 404


def test_delete_of_a_missing_item_is_a_404(api: Api) -> None:
    answer = api("DELETE", "/records/actor/item", query={"content_id": "ghost"})

    assert answer.status == 404


def test_delete_with_a_stale_if_match_is_a_409_and_keeps_the_item(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))
    api("PATCH", "/records/actor/item", query={"content_id": "a1"}, body={"set_commands": {}})

    answer = api(
        "DELETE", "/records/actor/item", query={"content_id": "a1"}, headers={"If-Match": '"1"'}
    )

    assert answer.status == 409
    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).status == 200


def test_delete_with_the_current_if_match_deletes(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    answer = api(
        "DELETE", "/records/actor/item", query={"content_id": "a1"}, headers={"If-Match": '"1"'}
    )

    assert answer.status == 204


def test_health_names_the_content_types(api: Api) -> None:
    answer = api("GET", "/health")

    assert answer.status == 200
    assert answer.body == {
        "status": "ok",
        "content_types": ["actor", "review", "cast-actor", "cast-review"],
    }


def test_openapi_document_is_valid_and_lists_every_route(api: Api) -> None:
    answer = api("GET", "/openapi.json")

    assert answer.status == 200
    document = json.loads(answer.raw_body)
    validate(document)
    paths = document["paths"]
    for name in ("actor", "review"):
        assert set(paths[f"/records/{name}"]) == {"put", "get"}
        assert set(paths[f"/records/{name}/item"]) == {"get", "patch", "delete"}
        assert set(paths[f"/records/{name}/batch"]) == {"post"}
        assert set(paths[f"/records/{name}/batch-get"]) == {"post"}
    assert "/health" in paths
    assert {"FilmActor", "ActorReview", "ErrorBody"} <= set(document["components"]["schemas"])


def test_openapi_documents_the_error_answers(api: Api) -> None:
    document = json.loads(api("GET", "/openapi.json").raw_body)

    responses = document["paths"]["/records/actor/item"]["patch"]["responses"]

    assert {"200", "400", "404", "409", "422"} <= set(responses)
    schema = responses["409"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ErrorBody"}


def test_put_over_an_updated_item_adds_one_to_its_version(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))
    for name in ("B", "C", "D"):
        api(
            "PATCH",
            "/records/actor/item",
            query={"content_id": "a1"},
            body={"set_commands": {"name": name}},
        )

    answer = api("PUT", "/records/actor", body=actor("a1"))

    assert answer.status == 200
    assert answer.headers["ETag"] == '"5"'
    assert answer.body["current_version"] == 5


def test_a_stale_etag_never_matches_again_after_a_put(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))
    api("PUT", "/records/actor", body=actor("a1", "Again"))

    answer = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        headers={"If-Match": '"1"'},
        body={"set_commands": {"name": "Stale"}},
    )

    assert answer.status == 409
    assert answer.body["detail"]["actual_version"] == 2


def test_put_with_if_match_replaces_only_that_version(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    stale = api("PUT", "/records/actor", body=actor("a1", "Stale"), headers={"If-Match": '"7"'})
    current = api("PUT", "/records/actor", body=actor("a1", "Fresh"), headers={"If-Match": '"1"'})

    assert stale.status == 409
    assert current.status == 200
    assert current.headers["ETag"] == '"2"'
    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).body["item"]["name"] == (
        "Fresh"
    )


def test_put_with_current_version_in_the_body_locks_too(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))

    stale = api("PUT", "/records/actor", body={**actor("a1"), "current_version": 99})
    missing = api("PUT", "/records/actor", body={**actor("zz"), "current_version": 1})

    assert stale.status == 409
    assert missing.status == 404


def test_put_with_if_match_star_needs_an_existing_item(api: Api) -> None:
    absent = api("PUT", "/records/actor", body=actor("a1"), headers={"If-Match": "*"})
    api("PUT", "/records/actor", body=actor("a1"))
    present = api("PUT", "/records/actor", body=actor("a1"), headers={"If-Match": "*"})

    assert absent.status == 404
    assert present.status == 200
    assert present.headers["ETag"] == '"2"'


def test_a_version_outside_the_bounds_is_a_422(api: Api) -> None:
    for version in (0, -5, 10**40 + 1):
        answer = api("PUT", "/records/actor", body={**actor("a1"), "current_version": version})

        assert answer.status == 422, version


def test_batch_put_stores_the_submitted_version_as_documented(api: Api) -> None:
    api("PUT", "/records/actor", body=actor("a1"))
    api("PUT", "/records/actor", body=actor("a1"))

    api("POST", "/records/actor/batch", body={"contents": [{**actor("a1"), "current_version": 7}]})
    api("POST", "/records/actor/batch", body={"contents": [actor("a2")]})

    assert api("GET", "/records/actor/item", query={"content_id": "a1"}).headers["ETag"] == '"7"'
    assert api("GET", "/records/actor/item", query={"content_id": "a2"}).headers["ETag"] == '"1"'


EXPIRED = "1970-01-01T00:00:00Z"


def test_patch_of_an_expired_item_is_a_404_like_get(api: Api) -> None:
    api("PUT", "/records/actor", body={**actor("a1"), "expiry": EXPIRED})

    got = api("GET", "/records/actor/item", query={"content_id": "a1"})
    patched = api(
        "PATCH",
        "/records/actor/item",
        query={"content_id": "a1"},
        body={"set_commands": {"name": "x"}},
    )

    assert got.status == 404
    assert patched.status == 404
    assert patched.body["error"] == "not_found"


def test_delete_of_an_expired_item_is_a_404_like_get(api: Api) -> None:
    api("PUT", "/records/actor", body={**actor("a1"), "expiry": EXPIRED})

    answer = api("DELETE", "/records/actor/item", query={"content_id": "a1"})

    assert answer.status == 404


def test_a_conditional_put_of_an_expired_item_is_a_404_like_get(api: Api) -> None:
    api("PUT", "/records/actor", body={**actor("a1"), "expiry": EXPIRED})

    answer = api("PUT", "/records/actor", body=actor("a1"), headers={"If-Match": '"1"'})

    assert answer.status == 404
