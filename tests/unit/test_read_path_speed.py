"""The read path's fast paths give what the plain ones give, and its flows hold one page."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pydantic_dynamo.flows import Call, Emit
from pydantic_dynamo.keys import Ids
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.paging import is_expired
from pydantic_dynamo.read_flows import get_batch_flow, list_flow
from pydantic_dynamo.schema import INTERNAL_TTL
from tests.unit.test_paging import PK, SK, Actor
from tests.unit.test_paging import actor_core as _core

ids = st.lists(st.text(max_size=3), max_size=3)
partition_ids: st.SearchStrategy[Ids] = st.none() | st.text(max_size=3) | ids | ids.map(tuple)


@given(st.lists(st.tuples(partition_ids, ids), max_size=8))
def test_batch_get_keys_are_the_keys_of_each_pair(pairs: list[tuple[Ids, Ids]]) -> None:
    core = _core()
    request = core.get_plan(pairs).next_request()
    expected: list[dict[str, Any]] = []
    for pids, cids in pairs:  # duplicates are read once, in first-seen order
        key = core.key(pids, cids)
        if key not in expected:
            expected.append(key)
    if not expected:
        assert request is None
        return
    assert request is not None
    assert request["RequestItems"]["records"]["Keys"] == expected[:100]


ttl_values = st.none() | st.integers(0, 20).map(lambda n: {"N": str(n)}) | st.just({"S": "x"})


@given(st.lists(ttl_values, max_size=6), st.integers(0, 20))
def test_live_items_are_the_unexpired_ones(ttls: list[Any], now: int) -> None:
    items = [
        {PK: {"S": "p"}, SK: {"S": f"s{i}"}, **({} if ttl is None else {INTERNAL_TTL: ttl})}
        for i, ttl in enumerate(ttls)
    ]
    assert _core().live_items(items, now) == [i for i in items if not is_expired(i, now)]


class _Tracked(dict[str, Any]):
    """An item a weak reference can watch."""


def _raw(core: RepositoryCore[Actor], name: str) -> _Tracked:
    return _Tracked(
        {PK: {"S": core.keys.partition_value(["p"])}, SK: {"S": f"c#{name}"}, "name": {"S": name}}
    )


def test_a_listing_holds_no_emitted_page_while_reading_the_next() -> None:
    core = _core()
    flow = list_flow(core, ["p"])
    assert isinstance(next(flow), Call)
    first = _raw(core, "a")
    watch = weakref.ref(first)
    emitted = flow.send({"Items": [first], "LastEvaluatedKey": {PK: first[PK], SK: first[SK]}})
    assert isinstance(emitted, Emit)
    assert [c.item.name for c in emitted.value.contents] == ["a"]
    del first, emitted
    assert isinstance(next(flow), Call)  # the next page's request is in flight
    gc.collect()
    assert watch() is None


def test_a_batch_get_holds_no_emitted_page_while_reading_the_next() -> None:
    core = _core()
    flow = get_batch_flow(core, [(["p"], [str(i)]) for i in range(150)])
    assert isinstance(next(flow), Call)
    first = _raw(core, "a")
    watch = weakref.ref(first)
    emitted = flow.send({"Responses": {"records": [first]}})
    assert isinstance(emitted, Emit)
    del first, emitted
    assert isinstance(next(flow), Call)
    gc.collect()
    assert watch() is None
