"""Each answer is serialized once: the bytes measured against the 6 MB budget are the body.

The content type here counts every serialization of its model (a field serializer runs on every
pass of pydantic, to JSON or to Python, whoever makes it), so a second pass anywhere in the
answer's way (a re-validation, Powertools' response serializer, a second measurement) shows.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, field_serializer

from records_api.app import build_handler
from records_service.content_types import ContentType
from records_service.repositories import Repositories
from records_service.settings import Settings
from tests.service.helpers import Api, ServiceEnv

SERIALIZED: list[str] = []


class Counted(BaseModel):
    """A content whose every serialization is recorded in ``SERIALIZED``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str

    @field_serializer("name")
    def _count(self, name: str) -> str:
        SERIALIZED.append(self.id)
        return name


COUNTED = ContentType("counted", Counted, partition_prefix="test", partition_name="counted")


@pytest.fixture
def counted(service_env: ServiceEnv) -> Api:
    """The API serving only ``COUNTED``, with three contents stored and the count reset."""
    repositories = Repositories(Settings.from_env(), service_env.dynamodb_client)
    api = Api(build_handler(Settings.from_env(), [COUNTED], repositories=repositories))
    for i in range(3):
        # A non-ASCII name: escaped in the same single pass.
        item = {"id": f"c{i}", "name": "Zoë"}
        content = {"partition_ids": ["p"], "content_ids": [f"c{i}"], "item": item}
        assert api("PUT", "/records/counted", body=content).status == 200
    SERIALIZED.clear()
    return api


def test_a_get_serializes_its_answer_once(counted: Api) -> None:
    answer = counted(
        "GET", "/records/counted/item", query={"partition_id": "p", "content_id": "c1"}
    )
    assert answer.status == 200
    assert answer.headers["ETag"] == '"1"'
    assert '"name":"Zo\\u00eb"' in answer.raw_body
    assert answer.body["item"] == {"id": "c1", "name": "Zoë"}
    assert SERIALIZED == ["c1"]


def test_a_list_serializes_each_content_once(counted: Api) -> None:
    answer = counted("GET", "/records/counted", query={"partition_id": "p"})
    assert answer.status == 200
    assert [c["content_ids"] for c in answer.body["contents"]] == [["c0"], ["c1"], ["c2"]]
    assert answer.body["cursor"] is None
    assert SERIALIZED == ["c0", "c1", "c2"]


def test_a_batch_get_serializes_each_content_once(counted: Api) -> None:
    keys: list[dict[str, Any]] = [
        {"partition_ids": ["p"], "content_ids": [c]} for c in ("c2", "c0", "nope")
    ]
    answer = counted("POST", "/records/counted/batch-get", body={"keys": keys})
    assert answer.status == 200
    assert sorted(c["content_ids"][0] for c in answer.body["contents"]) == ["c0", "c2"]
    assert answer.body["missing"] == [keys[2]]
    assert sorted(SERIALIZED) == ["c0", "c2"]
