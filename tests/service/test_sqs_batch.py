"""Reading an SQS batch: each record is validated alone, so a bad one fails only itself."""

from __future__ import annotations

import json

import pytest

from records_service import sqs_batch
from records_service.ingestion import InvalidMessageError, parse_submission
from records_service.sqs_batch import SqsBatch

GOOD = json.dumps(
    {
        "content_type": "actor",
        "contents": [
            {"partition_ids": [], "content_ids": ["a1"], "item": {"id": "a1", "name": "n"}}
        ],
    }
)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"content_type": "actor", "contents": [' + "[" * 5000 + "]" * 5000 + "]}",
        '{"content_type": "actor", "contents": [{"partition_ids": [], "content_ids": ["x"], '
        '"item": {"id": "x", "name": ' + "[" * 3000 + "]" * 3000 + "}}]}",
    ],
)
def test_json_nested_too_deeply_is_an_invalid_message(body: str) -> None:
    with pytest.raises(InvalidMessageError):
        parse_submission(body, "RecordsSubmitted")


def test_a_record_that_breaks_the_parser_fails_alone_as_invalid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parse(body: str, detail_type: str) -> object:
        if body == "boom":
            raise RuntimeError("unforeseen")
        return parse_submission(body, detail_type)

    monkeypatch.setattr(sqs_batch, "parse_submission", parse)
    records = [{"messageId": "bad", "body": "boom"}, {"messageId": "ok", "body": GOOD}]

    batch = SqsBatch.parse(records, "RecordsSubmitted")

    assert list(batch.failures) == ["bad"]
    assert "unforeseen" in batch.failures["bad"]
    assert [m.message_id for m in batch.messages] == ["ok"]
    assert batch.invalid == 1
