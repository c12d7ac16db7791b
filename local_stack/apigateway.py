"""HTTP request -> API Gateway REST proxy event (payload 1.0) -> HTTP response, as pure functions.

The event has the shape Lambda receives behind a REST API whose routes all reach one function
through a greedy ``/{proxy+}`` resource: ``path`` without the stage, ``requestContext.path``
with it; ``queryStringParameters``/``headers`` hold the last value of each name and the
``multiValue...`` maps every value; each is ``None`` when empty, as API Gateway sends them.
Query strings are decoded as forms (``+`` is a space, as API Gateway decodes them).
As in a REST API without binary media types (the CDK app declares none), a body is passed as
text; bytes that are not UTF-8 become U+FFFD. A request whose Content-Type is one of
``binary_media_types`` is passed base64-encoded with ``isBase64Encoded`` set.

>>> request = HttpRequest("GET", "/records/actor?limit=2&limit=3", [("Host", "h")], b"", "1.2.3.4")
>>> event = build_proxy_event(request, stage="local", request_id="r", now=0.0)
>>> event["path"], event["queryStringParameters"], event["multiValueQueryStringParameters"]
('/records/actor', {'limit': '3'}, {'limit': ['2', '3']})
>>> parse_proxy_response({"statusCode": 204}).status
204
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_stack import config

# API Gateway's payload limit for REST APIs.
MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024

# Headers the local HTTP server sets itself: a handler's values would be wrong after decoding.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as read from the socket."""

    method: str
    target: str  # path and query string, still percent-encoded
    headers: Sequence[tuple[str, str]]
    body: bytes
    client_ip: str


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP response to write back."""

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes


class InvalidProxyResponseError(ValueError):
    """The function answered something API Gateway would turn into a 502."""


def _single_and_multi(
    pairs: Sequence[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _body_field(
    body: bytes, content_type: str | None, binary_media_types: Sequence[str]
) -> tuple[str | None, bool]:
    if not body:
        return None, False
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if any(fnmatch.fnmatch(media_type, pattern.lower()) for pattern in binary_media_types):
        return base64.b64encode(body).decode("ascii"), True
    return body.decode("utf-8", errors="replace"), False


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def build_proxy_event(
    request: HttpRequest,
    *,
    stage: str,
    request_id: str,
    now: float | None = None,
    binary_media_types: Sequence[str] = (),
) -> dict[str, Any]:
    """The API Gateway REST proxy event (payload 1.0) for ``request``."""
    now = time.time() if now is None else now
    split = urlsplit(request.target)
    path = unquote(split.path) or "/"
    query = parse_qsl(split.query, keep_blank_values=True)
    headers = [*request.headers]
    header_names = {name.lower() for name, _ in headers}
    if "x-forwarded-for" not in header_names:
        headers.append(("X-Forwarded-For", request.client_ip))
    if "x-forwarded-proto" not in header_names:
        headers.append(("X-Forwarded-Proto", "http"))
    single_query, multi_query = _single_and_multi(query)
    single_headers, multi_headers = _single_and_multi(headers)
    user_agent = _header(headers, "user-agent")
    host = _header(headers, "host") or config.HOST
    body, is_base64 = _body_field(
        request.body, _header(headers, "content-type"), binary_media_types
    )
    proxy = path.lstrip("/")
    resource = "/{proxy+}" if proxy else "/"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": config.ACCOUNT_ID,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "apiKey": None,
                "apiKeyId": None,
                "caller": None,
                "clientCert": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.client_ip,
                "user": None,
                "userAgent": user_agent,
                "userArn": None,
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "local",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _header_pairs(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    multi = payload.get("multiValueHeaders") or {}
    single = payload.get("headers") or {}
    if not isinstance(multi, Mapping) or not isinstance(single, Mapping):
        raise InvalidProxyResponseError("headers and multiValueHeaders must be objects")
    pairs: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise InvalidProxyResponseError(f"multiValueHeaders[{name!r}] must be a list")
        pairs.extend((str(name), str(value)) for value in values)
    seen = {name.lower() for name in multi}
    pairs.extend((str(n), str(v)) for n, v in single.items() if str(n).lower() not in seen)
    return [(n, v) for n, v in pairs if n.lower() not in _HOP_BY_HOP]


def parse_proxy_response(payload: Any) -> HttpResponse:
    """Turn a function's proxy response into HTTP, or raise ``InvalidProxyResponseError``."""
    if not isinstance(payload, Mapping):
        raise InvalidProxyResponseError(f"expected an object, got {type(payload).__name__}")
    status = payload.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidProxyResponseError(f"statusCode must be an HTTP status, got {status!r}")
    body = payload.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise InvalidProxyResponseError(f"body must be a string, got {type(body).__name__}")
    elif payload.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise InvalidProxyResponseError(f"body is not valid base64: {exc}") from exc
    else:
        raw = body.encode("utf-8")
    return HttpResponse(status, _header_pairs(payload), raw)


def gateway_error(status: int, message: str, error_type: str) -> HttpResponse:
    """An answer the gateway gives by itself, e.g. 502 when the function fails.

    Like API Gateway's own responses it carries ``x-amzn-ErrorType``, which tells it apart
    from the function's answers.
    """
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)]
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())
