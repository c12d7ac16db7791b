"""Whatever a client sends, the API answers 2xx/4xx with a JSON ErrorBody on 4xx, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.helpers import Api

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
IDS = st.lists(st.text(max_size=12), max_size=3)
CONTENT = st.fixed_dictionaries(
    {"partition_ids": IDS, "content_ids": IDS},
    optional={
        "item": st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(max_size=8) | JSON,
                "name": st.text(max_size=8) | JSON,
                "actor_id": st.text(max_size=8),
                "created": st.sampled_from(["2023-01-01T00:00:00Z", "x", ""]) | JSON,
                "review": st.text(max_size=8) | JSON,
            },
        )
        | JSON,
        "expiry": st.sampled_from(["2999-01-01T00:00:00Z", "1970-01-01", "nope"]) | JSON,
        "current_version": st.integers() | JSON,
    },
)
UPDATE = st.fixed_dictionaries(
    {},
    optional={
        "set_commands": st.dictionaries(
            st.sampled_from(["name", "review", "id", "created", "_ttl", "nope", "a.b"]), JSON
        ),
        "increment_attrs": st.dictionaries(st.sampled_from(["name", "nope"]), JSON),
        "append_attrs": st.dictionaries(st.sampled_from(["name", "review"]), JSON),
        "remove_attrs": st.lists(st.sampled_from(["review", "name", "id", "_timestamp"])),
        "current_version": st.integers(min_value=-3, max_value=3) | JSON,
        "expiry": JSON,
    },
)
QUERY_VALUE = st.text(max_size=30) | st.sampled_from(
    [
        "review:eq:x",
        "name:in:[1]",
        'created:between:["2023","2024"]',
        "created:gt:2023-01-01T00:00:00Z",
        "id:contains:",
        "a.b.c:exists",
        "name::",
    ]
)
QUERY = st.dictionaries(
    st.sampled_from(
        [
            "partition_id",
            "content_id",
            "prefix",
            "start",
            "end",
            "limit",
            "cursor",
            "order",
            "filter",
        ]
    ),
    st.lists(QUERY_VALUE, min_size=1, max_size=3),
    max_size=5,
)
REQUESTS = st.one_of(
    st.tuples(
        st.just("PUT"), st.sampled_from(["/records/actor", "/records/review"]), CONTENT | JSON
    ),
    st.tuples(
        st.just("POST"),
        st.just("/records/review/batch"),
        st.fixed_dictionaries({"contents": st.lists(CONTENT, max_size=3)}) | JSON,
    ),
    st.tuples(
        st.just("POST"),
        st.just("/records/actor/batch-get"),
        st.fixed_dictionaries(
            {
                "keys": st.lists(
                    st.fixed_dictionaries({"partition_ids": IDS, "content_ids": IDS}), max_size=3
                )
            }
        )
        | JSON,
    ),
    st.tuples(st.just("PATCH"), st.just("/records/actor/item"), UPDATE | JSON),
    st.tuples(
        st.sampled_from(["GET", "DELETE"]),
        st.sampled_from(["/records/review/item", "/records/actor"]),
        st.none(),
    ),
    st.tuples(
        st.sampled_from(["GET", "POST", "PUT"]), st.text(max_size=20).map(lambda s: "/" + s), JSON
    ),
)


@pytest.mark.parametrize("service_env", ["moto"], indirect=True)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=REQUESTS, query=QUERY, if_match=st.none() | st.text(max_size=6))
def test_no_request_gets_a_5xx(
    api: Api, request: tuple[str, str, Any], query: dict[str, list[str]], if_match: str | None
) -> None:
    method, path, body = request
    headers = {} if if_match is None else {"If-Match": if_match}
    raw = None if body is None else json.dumps(body)

    answer = api(method, path, body=raw, query=query, headers=headers)

    assert answer.status < 500, answer.raw_body
    if answer.status >= 400:
        assert {"error", "message"} <= set(answer.body)
