"""DynamoDB's error answers as botocore ``ClientError``s, shaped as botocore parses them.

A caller sees exactly what the boto3 client raises: ``error.response["Error"]["Code"]`` without
the ``com.amazonaws.dynamodb.v20120810#`` prefix, ``["Error"]["Message"]``, the
``ResponseMetadata`` (request id, status, headers, retry attempts) and the error's modelled
members at the top level (``Item`` of a ``ConditionalCheckFailedException`` raised with
``ReturnValuesOnConditionCheckFailure=ALL_OLD``, ``CancellationReasons`` of a cancelled
transaction), binary values decoded.

>>> error = client_error(
...     400, {"x-amzn-requestid": "R1"},
...     b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
...     b'"message":"Requested resource not found"}', "GetItem", 0)
>>> error.response["Error"], str(error)
({'Code': 'ResourceNotFoundException', 'Message': 'Requested resource not found'}, \
'An error occurred (ResourceNotFoundException) when calling the GetItem operation: \
Requested resource not found')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError
from botocore.exceptions import ClientError as BotocoreClientError

from pydantic_dynamo.transport.wire import decode_binary, has_binary

__all__ = ["ErrorClasses", "client_error", "error_fields", "response_metadata"]


class ErrorClasses:
    """``client.exceptions``: one ``ClientError`` subclass per error code, as boto3 offers.

    ``client.exceptions.ConditionalCheckFailedException`` is what a conditional write that
    failed raises; every class is a ``ClientError``, so catching that still works.

    >>> ErrorClasses().of("ResourceNotFoundException").__mro__[1].__name__
    'ClientError'
    """

    ClientError = ClientError

    def __init__(self) -> None:
        self._classes: dict[str, type[BotocoreClientError]] = {}

    def of(self, code: str) -> type[BotocoreClientError]:
        """The class raised for ``code``."""
        found = self._classes.get(code)
        if found is None:
            found = self._classes.setdefault(code, type(code, (ClientError,), {}))
        return found

    def __getattr__(self, name: str) -> type[BotocoreClientError]:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.of(name)


def response_metadata(
    status: int, headers: Mapping[str, str], attempts: int, *, exhausted: bool = False
) -> dict[str, Any]:
    """botocore's ``ResponseMetadata``: request id, status, lower-cased headers, retries."""
    lowered = {name.lower(): value for name, value in headers.items()}
    metadata: dict[str, Any] = {
        "RequestId": lowered.get("x-amzn-requestid", ""),
        "HTTPStatusCode": status,
        "HTTPHeaders": lowered,
        "RetryAttempts": attempts,
    }
    if exhausted:
        metadata["MaxAttemptsReached"] = True
    return metadata


def error_fields(status: int, body: bytes) -> dict[str, Any]:
    """The parsed error: ``Error`` (``Code``, ``Message``) and the modelled members."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    code = str(parsed.pop("__type", "") or status)
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    # The message goes to Error.Message only, as botocore's parser leaves it.
    message = parsed.pop("message", None) or parsed.pop("Message", "")
    if has_binary(body):
        decode_binary(parsed)
    return {**parsed, "Error": {"Code": code, "Message": str(message)}}


def client_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    operation: str,
    attempts: int,
    *,
    exhausted: bool = False,
) -> ClientError:
    """The ``ClientError`` botocore would raise for this HTTP error answer."""
    response = error_fields(status, body)
    response["ResponseMetadata"] = response_metadata(status, headers, attempts, exhausted=exhausted)
    return ClientError(response, operation)  # type: ignore[arg-type]
