"""A faster JSON wire layer for the boto3 DynamoDB clients this library creates itself.

botocore walks the service model for every request and response: each attribute of each item
is visited as a shape. For DynamoDB's JSON protocol that walk changes nothing but binary
values (base64 on the wire, ``bytes`` in Python), yet it costs more CPU than everything else a
data-plane call does (a 2,000-item Query spends two thirds of its client time parsing).

For the data-plane operations this library sends, :func:`install` makes a client

- serialize the request with one JSON encode (``bytes`` become base64, as botocore does),
  letting botocore still build the method, target and content-type headers;
- parse a successful response with one JSON parse, decoding base64 only where an
  AttributeValue holds binary (``"B"``/``"BS"``), and only when the body contains one.

Both are the lean transport's (:mod:`pydantic_dynamo.transport.wire`).

Everything else (signing, credentials, endpoints, retries, error parsing, hooks such as
``before-send``) is botocore's own. Clients passed in by users are never modified.
"""

from __future__ import annotations

from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, ResponseParserFactory
from botocore.serialize import JSONSerializer

from pydantic_dynamo.transport.wire import decode_body, encode_body

__all__ = ["FAST_OPERATIONS", "install"]

FAST_OPERATIONS = frozenset(
    {
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)
_FAST_OUTPUTS = frozenset(f"{name}Output" for name in FAST_OPERATIONS)


class _FastSerializer:
    def __init__(self, stock: Any) -> None:
        self._stock = stock

    def serialize_to_request(self, parameters: Any, operation_model: Any) -> Any:
        if operation_model.name not in FAST_OPERATIONS:
            return self._stock.serialize_to_request(parameters, operation_model)
        # botocore builds everything but the body from an empty input (cheap: nothing to walk).
        serialized = self._stock.serialize_to_request({}, operation_model)
        serialized["body"] = encode_body(parameters)
        return serialized


_StockJSONParser: Any = PROTOCOL_PARSERS["json"]


class _FastJSONParser(_StockJSONParser):  # type: ignore[misc]
    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if shape is None or shape.name not in _FAST_OUTPUTS:
            return super()._handle_json_body(raw_body, shape)
        return decode_body(raw_body)


class _FastParserFactory(ResponseParserFactory):
    def __init__(self, defaults: dict[str, Any]) -> None:
        super().__init__()
        self._fast_defaults = defaults
        self.set_parser_defaults(**defaults)

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return _FastJSONParser(**self._fast_defaults)
        return super().create_parser(protocol_name)


def install(client: Any) -> bool:
    """Give ``client`` the fast serializer and parser; whether it could (it needs botocore's
    JSON protocol internals as this module knows them, else the client is left as it was)."""
    endpoint = getattr(client, "_endpoint", None)
    serializer = getattr(client, "_serializer", None)
    if endpoint is None or not isinstance(serializer, JSONSerializer):
        return False
    if not hasattr(endpoint, "_response_parser_factory"):
        return False
    if not hasattr(_StockJSONParser, "_handle_json_body"):
        return False
    defaults = dict(getattr(endpoint._response_parser_factory, "_defaults", {}))
    endpoint._response_parser_factory = _FastParserFactory(defaults)
    client._serializer = _FastSerializer(serializer)
    return True
