"""The API through the local stack's HTTP endpoint: every operation, as a client sees it."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from typing import Any

import pytest

from local_stack import config
from tests.e2e.conftest import ApiClient
from tests.e2e.stack_process import RunningStack


def _actor(actor_id: str, name: str = "Someone", review: str | None = None) -> dict[str, Any]:
    return {
        "partition_ids": [],
        "content_ids": [actor_id],
        "item": {"id": actor_id, "name": name, "review": review},
    }


def _review(actor_id: str, created: str, text: str) -> dict[str, Any]:
    return {
        "partition_ids": [actor_id],
        "content_ids": [created],
        "item": {
            "id": f"review-{uuid.uuid4().hex[:8]}",
            "actor_id": actor_id,
            "created": created,
            "review": text,
        },
    }


def _new_id(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def test_health_names_the_served_content_types(api: ApiClient) -> None:
    response = api.request("GET", "/health")

    assert response.status_code == 200
    assert set(response.json()["content_types"]) >= {"actor", "review"}


def test_the_seed_readme_samples_are_loaded_at_start(
    api: ApiClient, local_stack: RunningStack
) -> None:
    assert local_stack.info["seed_problems"] == []

    actor = api.request("GET", "/records/actor/item", params={"content_id": "daniel-day-lewis"})
    reviews = api.request(
        "GET", "/records/review", params={"partition_id": "daniel-day-lewis", "prefix": "2023"}
    )

    assert actor.status_code == 200
    assert actor.json()["item"]["name"] == "Daniel Day-Lewis"
    assert [c["item"]["review"] for c in reviews.json()["contents"]] == [
        "I really thought he was the hero of this movie",
        "He really embodies the New York state of mind",
    ]


def test_put_then_get_answers_the_stored_content_at_version_1(api: ApiClient) -> None:
    actor_id = _new_id("actor")

    put = api.request("PUT", "/records/actor", json=_actor(actor_id, "Greta Gerwig"))
    got = api.request("GET", "/records/actor/item", params={"content_id": actor_id})

    assert put.status_code == 200, put.text
    assert got.status_code == 200, got.text
    assert got.json()["item"] == {"id": actor_id, "name": "Greta Gerwig", "review": None}
    assert got.json()["current_version"] == 1


def test_get_of_a_missing_item_is_404_naming_the_key(api: ApiClient) -> None:
    response = api.request("GET", "/records/actor/item", params={"content_id": _new_id("nobody")})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_list_pages_through_a_partition_with_the_cursor(api: ApiClient) -> None:
    actor_id = _new_id("actor")
    created = [f"2024-0{month}-01T00:00:00+00:00" for month in range(1, 6)]
    batch = {"contents": [_review(actor_id, when, f"review {when}") for when in created]}
    assert api.request("POST", "/records/review/batch", json=batch).status_code == 200

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"partition_id": actor_id, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.request("GET", "/records/review", params=params)
        assert page.status_code == 200, page.text
        seen.extend(c["content_ids"][0] for c in page.json()["contents"])
        pages += 1
        cursor = page.json()["cursor"]
        if cursor is None:
            break

    assert seen == created
    assert pages >= 3


def test_list_between_in_descending_order(api: ApiClient) -> None:
    actor_id = _new_id("actor")
    created = [
        "2023-01-15T00:00:00+00:00",
        "2023-02-15T00:00:00+00:00",
        "2023-06-15T00:00:00+00:00",
    ]
    batch = {"contents": [_review(actor_id, when, "fine") for when in created]}
    assert api.request("POST", "/records/review/batch", json=batch).status_code == 200

    page = api.request(
        "GET",
        "/records/review",
        params={"partition_id": actor_id, "start": "2023-01", "end": "2023-04", "order": "desc"},
    )

    assert page.status_code == 200, page.text
    assert [c["content_ids"][0] for c in page.json()["contents"]] == created[1::-1]


def test_an_index_query_pages_through_actors_by_name(api: ApiClient) -> None:
    name = _new_id("Steve Buscemi")  # a name of this test's own, with a space to encode
    ids = sorted(_new_id("actor") for _ in range(3))
    batch = {"contents": [_actor(actor_id, name) for actor_id in ids]}
    assert api.request("POST", "/records/actor/batch", json=batch).status_code == 200

    first = api.request("GET", "/records/actor/by/by_name", params={"name": name, "limit": 2})
    cursor = first.json()["cursor"]
    second = api.request(
        "GET", "/records/actor/by/by_name", params={"name": name, "limit": 2, "cursor": cursor}
    )
    listing = api.request("GET", "/records/actor", params={"cursor": cursor})

    assert first.status_code == 200, first.text
    assert [c["content_ids"][0] for c in first.json()["contents"]] == ids[:2]
    assert [c["content_ids"][0] for c in second.json()["contents"]] == ids[2:]
    assert second.json()["cursor"] is None
    assert listing.status_code == 400
    assert listing.json()["error"] == "invalid_cursor"


def test_batch_get_answers_found_contents_and_missing_keys(api: ApiClient) -> None:
    present, absent = _new_id("actor"), _new_id("actor")
    assert api.request("PUT", "/records/actor", json=_actor(present)).status_code == 200

    response = api.request(
        "POST",
        "/records/actor/batch-get",
        json={
            "keys": [
                {"partition_ids": [], "content_ids": [present]},
                {"partition_ids": [], "content_ids": [absent]},
            ]
        },
    )

    assert response.status_code == 200, response.text
    assert [c["content_ids"] for c in response.json()["contents"]] == [[present]]
    assert response.json()["missing"] == [{"partition_ids": [], "content_ids": [absent]}]


def test_update_with_if_match_bumps_the_version_and_a_stale_one_is_409(api: ApiClient) -> None:
    actor_id = _new_id("actor")
    api.request("PUT", "/records/actor", json=_actor(actor_id))
    item = {"content_id": actor_id}

    updated = api.request(
        "PATCH",
        "/records/actor/item",
        params=item,
        headers={"If-Match": "1"},
        json={"set_commands": {"review": "Superb"}},
    )
    stale = api.request(
        "PATCH",
        "/records/actor/item",
        params=item,
        headers={"If-Match": "1"},
        json={"set_commands": {"review": "Overwritten?"}},
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["current_version"] == 2
    assert updated.json()["item"]["review"] == "Superb"
    assert stale.status_code == 409, stale.text
    got = api.request("GET", "/records/actor/item", params=item)
    assert got.json()["item"]["review"] == "Superb"


def test_update_of_a_missing_item_is_404(api: ApiClient) -> None:
    response = api.request(
        "PATCH",
        "/records/actor/item",
        params={"content_id": _new_id("nobody")},
        json={"set_commands": {"review": "?"}},
    )

    assert response.status_code == 404, response.text


def test_delete_removes_the_item(api: ApiClient) -> None:
    actor_id = _new_id("actor")
    api.request("PUT", "/records/actor", json=_actor(actor_id))

    deleted = api.request("DELETE", "/records/actor/item", params={"content_id": actor_id})
    got = api.request("GET", "/records/actor/item", params={"content_id": actor_id})
    again = api.request("DELETE", "/records/actor/item", params={"content_id": actor_id})

    assert deleted.status_code == 204, deleted.text
    assert got.status_code == 404
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/records/actor", b'{"partition_ids": [], '),  # malformed JSON
        ("PUT", "/records/actor", b'{"partition_ids": [], "content_ids": ["x"], "item": {}}'),
        ("PUT", "/records/film", b'{"partition_ids": [], "content_ids": ["x"], "item": {}}'),
    ],
    ids=["malformed-json", "missing-fields", "unknown-content-type"],
)
def test_bad_input_is_a_4xx_that_says_why(
    api: ApiClient, method: str, path: str, body: bytes
) -> None:
    response = api.request(method, path, data=body, headers={"Content-Type": "application/json"})

    assert 400 <= response.status_code < 500, response.text
    assert response.text


def test_the_gateway_answers_413_for_a_body_over_10_mb(api: ApiClient) -> None:
    response = api.request("PUT", "/records/actor", data=b"x" * (10 * 1024 * 1024 + 1))

    assert response.status_code == 413


def test_the_printed_curl_lines_work_as_printed(local_stack: RunningStack) -> None:
    curl = shutil.which("curl")
    assert curl is not None, "curl is needed to check the printed lines (apt-get install curl)"
    banner = local_stack.stdout_path.read_text()
    lines = [line.strip() for line in banner.splitlines() if line.strip().startswith("curl ")]
    assert len(lines) >= 8, banner

    for line in lines:
        result = subprocess.run(
            ["bash", "-c", line + " -o /dev/null -w '%{http_code}'"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        status = result.stdout.strip()
        assert re.fullmatch(r"2\d\d", status), f"{line}\n-> HTTP {status} {result.stderr}"


def test_the_printed_feed_line_works_as_printed(local_stack: RunningStack) -> None:
    banner = local_stack.stdout_path.read_text()
    lines = [line.strip() for line in banner.splitlines() if "-m local_stack.feed" in line]
    assert len(lines) == 1, banner

    result = subprocess.run(
        ["bash", "-c", lines[0] + " --no-progress"],
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "rejected     0 lines" in result.stdout
