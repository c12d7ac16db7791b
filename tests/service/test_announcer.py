"""The publisher alone: packing into PutEvents limits, retrying only failed entries, giving up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from pydantic_dynamo import PartitionedContent
from records_service.content_types import ActorReview, FilmActor, content_type
from records_service.putevents import MAX_CALL_BYTES, MAX_ENTRIES_PER_CALL, MAX_ENTRY_BYTES
from write_once_deduper.announcer import Publisher, build_announcements

ACTOR = content_type("actor")
REVIEW = content_type("review")


def _actors(count: int) -> list[PartitionedContent[Any]]:
    return [
        PartitionedContent[FilmActor](
            partition_ids=[], content_ids=[f"a{i}"], item=FilmActor(id=f"a{i}", name="n")
        )
        for i in range(count)
    ]


def _review(text_size: int, day: int = 1) -> PartitionedContent[Any]:
    created = f"2023-01-{day:02d}T00:00:00+00:00"
    return PartitionedContent[ActorReview].model_validate(
        {
            "partition_ids": ["a1"],
            "content_ids": [created],
            "item": {"id": "r", "actor_id": "a1", "created": created, "review": "x" * text_size},
        }
    )


class _FakeEvents:
    """Records PutEvents calls; fails the entries whose detail mentions a failing id."""

    def __init__(self, failing: dict[str, int] | None = None, raises: int = 0) -> None:
        self.calls: list[list[Any]] = []
        self.failing = dict(failing or {})
        self.raises = raises

    def put_events(self, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(Entries)
        if self.raises:
            self.raises -= 1
            raise ConnectionError("network down")
        results: list[dict[str, str]] = []
        for entry in Entries:
            ids = {c["content_ids"][0] for c in json.loads(entry["Detail"])["contents"]}
            failing = [i for i in ids if self.failing.get(i, 0) > 0]
            for i in failing:
                self.failing[i] -= 1
            results.append({"ErrorCode": "InternalFailure"} if failing else {"EventId": "e"})
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedEntryCount": failed, "Entries": results}


def _publisher(events: _FakeEvents, **options: Any) -> tuple[Publisher, list[float]]:
    sleeps: list[float] = []
    publisher = Publisher(
        lambda: events,  # type: ignore[arg-type,return-value]
        Logger(service="test"),
        sleep=sleeps.append,
        jitter=lambda: 1.0,
        **options,
    )
    return publisher, sleeps


def test_small_contents_share_one_entry() -> None:
    announcements = build_announcements(ACTOR, _actors(50), "bus")

    assert len(announcements) == 1
    detail = json.loads(announcements[0].entry["Detail"])
    assert detail["content_type"] == "actor"
    assert [c["content_ids"] for c in detail["contents"]] == [[f"a{i}"] for i in range(50)]


def test_an_entry_never_exceeds_the_call_limit() -> None:
    contents = [_review(40_000, day) for day in range(1, 21)]

    announcements = build_announcements(REVIEW, contents, "bus")

    assert all(a.size <= MAX_CALL_BYTES for a in announcements)
    assert sum(len(a.contents) for a in announcements) == 20


def test_entries_are_grouped_into_calls_of_at_most_ten_and_256_kb() -> None:
    events = _FakeEvents()
    publisher, _ = _publisher(events)
    announcements = [a for c in _actors(25) for a in build_announcements(ACTOR, [c], "bus")]
    announcements += build_announcements(REVIEW, [_review(200_000, d) for d in (1, 2)], "bus")

    assert publisher.publish(announcements) == []

    assert [len(call) for call in events.calls] == [10, 10, 6, 1]
    for call in events.calls:
        assert len(call) <= MAX_ENTRIES_PER_CALL
        assert sum(len(e["Detail"].encode()) for e in call) <= MAX_CALL_BYTES


def test_a_content_too_large_for_any_event_is_announced_by_reference() -> None:
    (announcement,) = build_announcements(REVIEW, [_review(300_000)], "bus")

    detail = json.loads(announcement.entry["Detail"])
    assert detail["contents"] == []
    assert detail["references"][0]["content_ids"] == ["2023-01-01T00:00:00+00:00"]
    assert announcement.size < MAX_CALL_BYTES


def test_only_failed_entries_are_sent_again_with_growing_delays() -> None:
    events = _FakeEvents(failing={"a3": 2})
    publisher, sleeps = _publisher(events, base_delay=0.1)
    announcements = [a for c in _actors(5) for a in build_announcements(ACTOR, [c], "bus")]

    assert publisher.publish(announcements) == []

    assert [len(call) for call in events.calls] == [5, 1, 1]
    assert sleeps == [0.1, 0.2]


def test_a_failing_call_is_retried_whole() -> None:
    events = _FakeEvents(raises=1)
    publisher, sleeps = _publisher(events)

    assert publisher.publish(build_announcements(ACTOR, _actors(3), "bus")) == []
    assert len(events.calls) == 2
    assert len(sleeps) == 1


def test_entries_still_failing_after_the_attempts_are_handed_back() -> None:
    events = _FakeEvents(failing={"a1": 100})
    publisher, sleeps = _publisher(events, max_attempts=4, max_delay=0.3, base_delay=0.1)
    announcements = [a for c in _actors(2) for a in build_announcements(ACTOR, [c], "bus")]

    failed = publisher.publish(announcements)

    assert [a.contents[0].content_ids for a in failed] == [["a1"]]
    assert sleeps == [0.1, 0.2, 0.3]


def test_retries_stop_when_the_invocation_runs_out_of_time() -> None:
    events = _FakeEvents(failing={"a0": 100})
    publisher, sleeps = _publisher(events)

    failed = publisher.publish(build_announcements(ACTOR, _actors(1), "bus"), lambda: 3.0)

    assert len(failed) == 1
    assert sleeps == []


@pytest.mark.parametrize("count", [0, 1])
def test_nothing_to_announce_sends_nothing_extra(count: int) -> None:
    events = _FakeEvents()
    publisher, _ = _publisher(events)

    publisher.publish(build_announcements(ACTOR, _actors(count), "bus"))

    assert len(events.calls) == count


class _ShortAnswers(_FakeEvents):
    """PutEvents answering fewer results than entries (nothing can be told about any entry)."""

    def put_events(self, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}


def test_an_answer_that_does_not_match_the_entries_hands_them_all_back() -> None:
    events = _ShortAnswers()
    publisher, _ = _publisher(events, max_attempts=2)
    announcements = [a for c in _actors(3) for a in build_announcements(ACTOR, [c], "bus")]

    failed = publisher.publish(announcements)

    assert failed == announcements
    assert len(events.calls) == 2


def test_a_code_no_retry_can_fix_is_handed_back_without_retrying() -> None:
    class Malformed(_FakeEvents):
        def put_events(self, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
            self.calls.append(Entries)
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "MalformedDetail"}]}

    events = Malformed()
    publisher, sleeps = _publisher(events)

    failed = publisher.publish(build_announcements(ACTOR, _actors(1), "bus"))

    assert len(failed) == 1
    assert len(events.calls) == 1
    assert sleeps == []


def test_entries_leave_room_for_the_sqs_envelope() -> None:
    contents = [_review(60_000, day) for day in range(1, 11)]

    announcements = build_announcements(REVIEW, contents, "bus")

    assert all(a.size <= MAX_ENTRY_BYTES for a in announcements)
