"""Whatever a client sends, the API answers 2xx/4xx with a JSON ErrorBody on 4xx, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.helpers import Api


class Raw(str):
    """A body sent as it is, not JSON-encoded (JSON no encoder would write)."""


# Strings with lone surrogates: valid in JSON ("\ud800"), not encodable as UTF-8.
SURROGATES = st.sampled_from(["\ud800", "a\udfff", "\udc00b", "x\ud83d"])
# Integers beyond DynamoDB's 38 significant digits.
HUGE_INTS = st.integers(min_value=10**38, max_value=10**60) | st.integers(
    min_value=-(10**60), max_value=-(10**38)
)
TEXT = st.text(max_size=20) | SURROGATES
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | HUGE_INTS
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
IDS = st.lists(st.text(max_size=12) | SURROGATES, max_size=3)
CONTENT = st.fixed_dictionaries(
    {"partition_ids": IDS, "content_ids": IDS},
    optional={
        "item": st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(max_size=8) | SURROGATES | JSON,
                "name": st.text(max_size=8) | SURROGATES | JSON,
                "actor_id": st.text(max_size=8),
                "created": st.sampled_from(["2023-01-01T00:00:00Z", "x", ""]) | JSON,
                "review": st.text(max_size=8) | JSON,
            },
        )
        | JSON,
        "expiry": st.sampled_from(["2999-01-01T00:00:00Z", "1970-01-01", "nope"]) | JSON,
        "current_version": st.integers() | HUGE_INTS | JSON,
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
        "current_version": st.integers(min_value=-3, max_value=3) | HUGE_INTS | JSON,
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
            "name",
        ]
    ),
    st.lists(QUERY_VALUE, min_size=1, max_size=3),
    max_size=5,
)


def _nested(depth: int, inside: str = "") -> str:
    return "[" * depth + inside + "]" * depth


# Bodies nested deeper than a recursive parser goes (alone, or as an item or a list of ids).
DEEP = st.integers(min_value=900, max_value=6000).flatmap(
    lambda depth: st.sampled_from(
        [
            Raw(_nested(depth)),
            Raw('{"partition_ids": [], "content_ids": ["x"], "item": ' + _nested(depth) + "}"),
            Raw('{"partition_ids": ' + _nested(depth) + ', "content_ids": [], "item": {}}'),
            Raw('{"contents": [' + _nested(depth) + "]}"),
            Raw('{"set_commands": {"name": ' + _nested(depth) + "}}"),
        ]
    )
)

REQUESTS = st.one_of(
    st.tuples(
        st.just("PUT"), st.sampled_from(["/records/actor", "/records/review"]), CONTENT | JSON
    ),
    st.tuples(
        st.sampled_from(["PUT", "POST", "PATCH"]),
        st.sampled_from(
            [
                "/records/actor",
                "/records/review/batch",
                "/records/actor/batch-get",
                "/records/actor/item",
            ]
        ),
        DEEP,
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
        st.sampled_from(
            [
                "/records/review/item",
                "/records/actor",
                "/records/actor/by/by_name",
                "/records/review/by/by_created",
            ]
        ),
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
    raw = None if body is None else body if isinstance(body, Raw) else json.dumps(body)

    answer = api(method, path, body=raw, query=query, headers=headers)

    assert answer.status < 500, answer.raw_body
    if answer.status >= 400:
        assert {"error", "message"} <= set(answer.body)
