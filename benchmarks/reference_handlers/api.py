"""The records API for actors as the Powertools docs write a REST API: the benchmark's reference.

Same routes, bodies and items as the service's ``/records/actor`` (``docs/api.md``): PUT stores
one actor (its version one more than the stored one, atomically), GET reads one, PATCH applies
``set_commands`` (the part of the service's UpdateCommand the benchmark sends), GET on the
collection lists a page with a cursor. Handler: ``reference_handlers.api.handler``; the table
is ``RECORDS_TABLE_NAME``, the endpoint boto3's own (``AWS_ENDPOINT_URL_DYNAMODB``).

No ``from __future__ import annotations`` here: Powertools reads the route functions'
annotations through ``tracer.capture_method``'s wrapper, whose globals are not this module's.
"""

import base64
import json
import os
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .table import (
    PARTITION_KEY,
    SORT_KEY,
    TIMESTAMP,
    TTL,
    VERSION,
    ActorContent,
    ActorIn,
    FilmActor,
    content_from_item,
    key_of,
    now_iso,
    serializer,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["ActorPage", "UpdateIn", "app", "handler"]

TABLE_NAME = os.environ["RECORDS_TABLE_NAME"]
dynamodb: "DynamoDBClient" = boto3.client("dynamodb")
logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)

PartitionIds = Annotated[list[str] | None, Query()]
ContentIds = Annotated[list[str] | None, Query()]


class UpdateIn(BaseModel):
    """A partial update: attribute -> new value, optionally at a version."""

    model_config = ConfigDict(extra="forbid")

    set_commands: dict[str, Any] = Field(default_factory=dict)
    current_version: int | None = Field(default=None, ge=1)


class ActorPage(BaseModel):
    """One page of actors and the cursor of the next (``None`` at the end)."""

    contents: list[ActorContent]
    cursor: str | None


def _answer(content: ActorContent) -> Response[ActorContent]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=content,
        headers={"ETag": f'"{content.current_version}"'},
    )


def _written() -> None:
    metrics.add_metric(name="RecordsWritten", unit=MetricUnit.Count, value=1)


@app.put("/records/actor")
@tracer.capture_method
def put_actor(content: Annotated[ActorIn, Body()]) -> Response[ActorContent]:
    """Store one actor; its version becomes the stored one plus 1."""
    fields = content.item.model_dump()
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":f{i}": serializer.serialize(value) for i, value in enumerate(fields.values())}
    sets = [f"#f{i} = :f{i}" for i in range(len(fields))]
    names.update({"#v": VERSION, "#ts": TIMESTAMP, "#ttl": TTL, "#pk": PARTITION_KEY})
    values.update({":one": {"N": "1"}, ":zero": {"N": "0"}, ":ts": {"S": now_iso()}})
    sets += ["#ts = :ts", "#v = if_not_exists(#v, :zero) + :one"]
    removes = ""
    if content.expiry is not None:
        values[":ttl"] = {"N": str(int(content.expiry.timestamp()))}
        sets.append("#ttl = :ttl")
    else:
        removes = " REMOVE #ttl"
    request: dict[str, Any] = {}
    if "current_version" in content.model_fields_set:
        values[":expected"] = {"N": str(content.current_version)}
        request["ConditionExpression"] = "attribute_exists(#pk) AND #v = :expected"
    else:
        del names["#pk"]
    try:
        response = dynamodb.update_item(
            TableName=TABLE_NAME,
            Key=key_of(content.partition_ids, content.content_ids),
            UpdateExpression="SET " + ", ".join(sets) + removes,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            **request,
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise BadRequestError("version conflict") from None
    _written()
    return _answer(content_from_item(response["Attributes"]))


@app.get("/records/actor/item")
@tracer.capture_method
def get_actor(
    partition_id: PartitionIds = None, content_id: ContentIds = None
) -> Response[ActorContent]:
    """One actor, or 404."""
    response = dynamodb.get_item(
        TableName=TABLE_NAME, Key=key_of(partition_id or [], content_id or [])
    )
    if "Item" not in response:
        raise NotFoundError("no such item")
    return _answer(content_from_item(response["Item"]))


@app.patch("/records/actor/item")
@tracer.capture_method
def update_actor(
    command: Annotated[UpdateIn, Body()],
    partition_id: PartitionIds = None,
    content_id: ContentIds = None,
) -> Response[ActorContent]:
    """Set some attributes of a stored actor; its version becomes the stored one plus 1."""
    if unknown := set(command.set_commands) - set(FilmActor.model_fields):
        raise BadRequestError(f"unknown attributes: {sorted(unknown)}")
    names = {f"#f{i}": name for i, name in enumerate(command.set_commands)}
    values = {
        f":f{i}": serializer.serialize(value)
        for i, value in enumerate(command.set_commands.values())
    }
    sets = [f"#f{i} = :f{i}" for i in range(len(names))]
    names.update({"#v": VERSION, "#ts": TIMESTAMP, "#pk": PARTITION_KEY})
    values.update({":one": {"N": "1"}, ":ts": {"S": now_iso()}})
    sets += ["#ts = :ts", "#v = if_not_exists(#v, :one) + :one"]
    condition = "attribute_exists(#pk)"
    if command.current_version is not None:
        values[":expected"] = {"N": str(command.current_version)}
        condition += " AND #v = :expected"
    try:
        response = dynamodb.update_item(
            TableName=TABLE_NAME,
            Key=key_of(partition_id or [], content_id or []),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise NotFoundError("no such item at that version") from None
    _written()
    return _answer(content_from_item(response["Attributes"]))


@app.get("/records/actor")
@tracer.capture_method
def list_actors(
    partition_id: PartitionIds = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query()] = None,
) -> ActorPage:
    """One page of a partition's actors, in sort-key order."""
    request: dict[str, Any] = {}
    if cursor:
        request["ExclusiveStartKey"] = json.loads(base64.urlsafe_b64decode(cursor))
    key = key_of(partition_id or [], [])
    response = dynamodb.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="#pk = :pk AND begins_with(#sk, :sk)",
        ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
        ExpressionAttributeValues={":pk": key[PARTITION_KEY], ":sk": key[SORT_KEY]},
        Limit=limit,
        **request,
    )
    last = response.get("LastEvaluatedKey")
    return ActorPage(
        contents=[content_from_item(item) for item in response["Items"]],
        cursor=base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Route an API Gateway REST event."""
    return app.resolve(event, context)
