"""The lean DynamoDB client: the data-plane methods of boto3's low-level client, without boto3.

:class:`LeanClient` offers ``put_item``, ``get_item``, ``update_item``, ``delete_item``,
``query``, ``scan``, ``batch_get_item``, ``batch_write_item``, ``transact_get_items`` and
``transact_write_items`` with boto3's keyword arguments and response dicts, so the library's
drivers use it unchanged. A request is one JSON encode, one SigV4 signature
(:mod:`~pydantic_dynamo.transport.signing`) and one POST on a kept-alive connection
(:mod:`~pydantic_dynamo.transport.http`); a response one JSON decode. Retries follow
botocore's standard mode (:mod:`~pydantic_dynamo.transport.retries`); errors are botocore
``ClientError``\\ s shaped as boto3's (:mod:`~pydantic_dynamo.transport.errors`).

Any other client method (``describe_table``, ``create_table``, paginators...) is delegated to a
boto3 client built on first use for the same endpoint, region and credentials, so
``repo.client`` still does everything a boto3 client does.

Hooks: ``client.meta.events`` is a botocore event emitter (created on first access; a client
nobody hooks into never emits) on which ``before-parameter-build``, ``before-call``,
``before-send`` and ``after-call`` fire as botocore fires them, with ``params``, ``context``,
``request``, ``http_response`` and ``parsed``.

Example (DynamoDB Local)::

    client = LeanClient(endpoint_url="http://127.0.0.1:8000", region_name="us-east-1")
    client.put_item(TableName="films", Item={"PK": {"S": "a"}, "SK": {"S": "b"}})
    assert client.get_item(TableName="films", Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]
"""

from __future__ import annotations

import time
import uuid
import zlib
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import (
    ChecksumError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from pydantic_dynamo.transport.credentials import EXPIRED_CREDENTIAL_CODES, CredentialSource
from pydantic_dynamo.transport.endpoints import resolve_endpoint, resolve_region
from pydantic_dynamo.transport.errors import ErrorClasses, error_fields, response_metadata
from pydantic_dynamo.transport.http import ConnectionFailedError, HttpAnswer, HttpPool
from pydantic_dynamo.transport.retries import CLOCK_SKEW_CODES, RetryQuota, TransportRetries
from pydantic_dynamo.transport.signing import Signer
from pydantic_dynamo.transport.wire import decode_body, encode_body

__all__ = ["LeanClient"]

Item = dict[str, Any]

_TARGET_PREFIX = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"
_USER_AGENT = "pydantic-dynamo-lean/1.0"
# A clock this far from DynamoDB's is corrected (SigV4 allows five minutes).
_SKEW_TOLERANCE = 60.0


class _ServiceModel:
    """What hooks read of botocore's ServiceModel: the service's names (IAM's prefix is
    ``signing_name``)."""

    __slots__ = ()
    service_name = "dynamodb"
    signing_name = "dynamodb"
    endpoint_prefix = "dynamodb"
    api_version = "2012-08-10"


_SERVICE_MODEL = _ServiceModel()


class _OperationModel:
    """What hooks see as ``model``: the operation's name and its service, as on botocore's
    OperationModel."""

    __slots__ = ("name",)
    service_model = _SERVICE_MODEL

    def __init__(self, name: str) -> None:
        self.name = name


class _HookRequest:
    """What ``before-send`` hooks see as ``request``: the attributes of botocore's
    ``AWSPreparedRequest`` that hooks read (method, url, headers, body)."""

    __slots__ = ("body", "context", "headers", "method", "params", "url")

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.method = "POST"
        self.url = url
        self.body = body
        self.headers = headers
        self.params: dict[str, str] = {}
        self.context: dict[str, Any] = {}


class _Meta:
    """``client.meta``: endpoint, region, a botocore ``Config`` telling the retry mode and
    attempts, and (lazily) the event hooks."""

    def __init__(self, endpoint_url: str, region_name: str, max_attempts: int) -> None:
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self.max_attempts = max_attempts
        self.hooks: Any = None
        self._config: Any = None

    @property
    def config(self) -> Any:
        """A botocore ``Config``, built on first access (importing it costs a cold start)."""
        if self._config is None:
            from botocore.config import Config

            self._config = Config(
                retries={"mode": "standard", "total_max_attempts": self.max_attempts}
            )
        return self._config

    @property
    def events(self) -> Any:
        """A botocore ``HierarchicalEmitter``, created on first access."""
        if self.hooks is None:
            from botocore.hooks import HierarchicalEmitter

            self.hooks = HierarchicalEmitter()
        return self.hooks


class LeanClient:
    """A DynamoDB data-plane client speaking the JSON protocol directly (see the module doc).

    Arguments are boto3's: ``endpoint_url``, ``region_name``, ``aws_access_key_id``,
    ``aws_secret_access_key``, ``aws_session_token``; ``config`` (a botocore ``Config``) is read
    for ``retries`` (``max_attempts``/``total_max_attempts``), ``max_pool_connections``,
    ``connect_timeout`` and ``read_timeout``. Unlike botocore's, ``read_timeout`` bounds each
    try as a whole (sending the request and reading its whole answer), not each socket read, so
    a server that trickles its answer cannot hold a call. ``credentials`` takes a botocore
    credentials object (refreshable ones refresh), ``retries`` a :class:`TransportRetries`.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        config: Any = None,
        credentials: Any = None,
        retries: TransportRetries | None = None,
    ) -> None:
        region = resolve_region(region_name)
        self._url = resolve_endpoint(region, endpoint_url)
        self._credentials = CredentialSource(
            aws_access_key_id, aws_secret_access_key, aws_session_token, credentials=credentials
        )
        self._signer = Signer(region)
        self._retries = retries or TransportRetries(max_attempts=_max_attempts(config))
        self._quota = RetryQuota()
        self.meta = _Meta(self._url, region, self._retries.max_attempts)
        self._http = HttpPool(
            self._url,
            max_connections=getattr(config, "max_pool_connections", None) or 10,
            connect_timeout=getattr(config, "connect_timeout", None) or 60.0,
            read_timeout=getattr(config, "read_timeout", None) or 60.0,
        )
        self._host = self._url.split("://", 1)[-1].split("/", 1)[0]
        self._boto3_kwargs: dict[str, Any] = {"endpoint_url": self._url, "region_name": region}
        if aws_access_key_id and aws_secret_access_key:
            self._boto3_kwargs.update(
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
            )
        self._boto3: Any = None
        self.exceptions = ErrorClasses()

    def __repr__(self) -> str:
        return f"LeanClient(endpoint_url={self._url!r}, region_name={self.meta.region_name!r})"

    # -- the data plane -------------------------------------------------------------------------

    def put_item(self, **kwargs: Any) -> Item:
        """PutItem, as ``boto3.client("dynamodb").put_item``."""
        return self._call("PutItem", kwargs)

    def get_item(self, **kwargs: Any) -> Item:
        """GetItem, as boto3's."""
        return self._call("GetItem", kwargs)

    def update_item(self, **kwargs: Any) -> Item:
        """UpdateItem, as boto3's."""
        return self._call("UpdateItem", kwargs)

    def delete_item(self, **kwargs: Any) -> Item:
        """DeleteItem, as boto3's."""
        return self._call("DeleteItem", kwargs)

    def query(self, **kwargs: Any) -> Item:
        """Query (one page), as boto3's."""
        return self._call("Query", kwargs)

    def scan(self, **kwargs: Any) -> Item:
        """Scan (one page), as boto3's."""
        return self._call("Scan", kwargs)

    def batch_get_item(self, **kwargs: Any) -> Item:
        """BatchGetItem, as boto3's."""
        return self._call("BatchGetItem", kwargs)

    def batch_write_item(self, **kwargs: Any) -> Item:
        """BatchWriteItem, as boto3's."""
        return self._call("BatchWriteItem", kwargs)

    def transact_get_items(self, **kwargs: Any) -> Item:
        """TransactGetItems, as boto3's."""
        return self._call("TransactGetItems", kwargs)

    def transact_write_items(self, **kwargs: Any) -> Item:
        """TransactWriteItems, as boto3's: with a ``ClientRequestToken`` when none is given.

        botocore fills the token in too (it is the operation's idempotency token): a retry of a
        transaction DynamoDB applied but whose answer was lost is then not applied twice.
        """
        kwargs.setdefault("ClientRequestToken", str(uuid.uuid4()))
        return self._call("TransactWriteItems", kwargs)

    # -- everything else: boto3 -----------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._boto3 is None:
            from pydantic_dynamo.client import create_client

            self._boto3 = create_client(**self._boto3_kwargs)
        return getattr(self._boto3, name)

    def close(self) -> None:
        """Close the pooled connections (and the boto3 client, if one was made)."""
        self._http.close()
        if self._boto3 is not None:
            self._boto3.close()

    # -- one call -------------------------------------------------------------------------------

    def _call(self, operation: str, params: Item) -> Item:
        events = self.meta.hooks
        if events is None:
            answer, parsed = self._send(operation, params, None)
        else:
            answer, parsed = self._call_hooked(events, operation, params)
        if answer.status_code >= 300:
            code = parsed.get("Error", {}).get("Code")
            error_class = self.exceptions.of(code) if code else ClientError
            raise error_class(parsed, operation)  # type: ignore[arg-type]
        return parsed

    def _call_hooked(self, events: Any, operation: str, params: Item) -> tuple[Any, Item]:
        model = _OperationModel(operation)
        context: Item = {}
        events.emit(
            f"before-parameter-build.dynamodb.{operation}",
            params=params,
            model=model,
            context=context,
        )
        _, short_circuit = events.emit_until_response(
            f"before-call.dynamodb.{operation}",
            model=model,
            params=params,
            request_signer=None,
            context=context,
        )
        if short_circuit is not None:
            answer, parsed = short_circuit
        else:
            answer, parsed = self._send(operation, params, events)
        events.emit(
            f"after-call.dynamodb.{operation}",
            http_response=answer,
            parsed=parsed,
            model=model,
            context=context,
        )
        return answer, parsed

    def _send(self, operation: str, params: Item, events: Any) -> tuple[Any, Item]:
        body = encode_body(params)
        retries, quota = self._retries, self._quota
        attempt = 0
        spent = 0  # what the latest retry took from the quota
        skew_corrected = refreshed = False
        while True:
            attempt += 1
            last = attempt >= retries.max_attempts
            try:
                answer = self._exchange(operation, body, events)
            except ConnectionFailedError as failure:
                timeout = failure.kind == "read-timeout"
                if last or not (spent := quota.acquire(timeout=timeout)):
                    raise self._connection_error(failure) from failure
                time.sleep(retries.delay(attempt))
                continue
            if answer.status_code < 300:
                if not _crc32_matches(answer):
                    if last or not (spent := quota.acquire(timeout=False)):
                        raise ChecksumError(
                            checksum_type="crc32",
                            expected_checksum=answer.headers.get("x-amz-crc32", ""),
                            actual_checksum=str(zlib.crc32(answer.content)),
                        )
                    time.sleep(retries.delay(attempt))
                    continue
                quota.release(spent or RetryQuota.NO_RETRY_INCREMENT)
                parsed = decode_body(answer.content)
                parsed["ResponseMetadata"] = response_metadata(
                    answer.status_code, answer.headers, attempt - 1
                )
                return answer, parsed
            fields = error_fields(answer.status_code, answer.content)
            code = fields["Error"]["Code"]
            retryable = retries.retryable_error(answer.status_code, code)
            if not last:
                if code in CLOCK_SKEW_CODES and not skew_corrected:
                    skew_corrected = True
                    if self._learn_skew(answer.headers):
                        continue
                if code in EXPIRED_CREDENTIAL_CODES and not refreshed:
                    refreshed = True
                    if self._credentials.expire():
                        continue
                if retryable and (spent := quota.acquire(timeout=False)):
                    time.sleep(retries.delay(attempt))
                    continue
            fields["ResponseMetadata"] = response_metadata(
                answer.status_code, answer.headers, attempt - 1, exhausted=last and retryable
            )
            return answer, fields

    def _exchange(self, operation: str, body: bytes, events: Any) -> Any:
        headers = {
            "Host": self._host,
            "Content-Type": _CONTENT_TYPE,
            "X-Amz-Target": _TARGET_PREFIX + operation,
            "User-Agent": _USER_AGENT,
        }
        self._signer.sign(self._credentials.frozen(), self._url, body, headers)
        if events is not None:
            request = _HookRequest(self._url + "/", body, headers)
            _, answer = events.emit_until_response(
                f"before-send.dynamodb.{operation}", request=request
            )
            if answer is not None:
                return answer
        return self._http.post(headers, body)

    def _learn_skew(self, headers: dict[str, str]) -> bool:
        """Set the signing clock offset from the server's ``Date``; whether it changed."""
        date = headers.get("date")
        if date is None:
            return False
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return False
        skew = server - time.time()
        if abs(skew - self._signer.skew) < _SKEW_TOLERANCE:
            return False
        self._signer.skew = skew
        return True

    def _connection_error(self, failure: ConnectionFailedError) -> Exception:
        if failure.kind == "connect":
            return EndpointConnectionError(endpoint_url=self._url)
        if failure.kind == "read-timeout":
            return ReadTimeoutError(endpoint_url=self._url)
        return ConnectionClosedError(endpoint_url=self._url)


def _crc32_matches(answer: HttpAnswer) -> bool:
    expected = answer.headers.get("x-amz-crc32")
    return expected is None or int(expected) == zlib.crc32(answer.content)


def _max_attempts(config: Any) -> int:
    retries = getattr(config, "retries", None) or {}
    if "total_max_attempts" in retries:
        return int(retries["total_max_attempts"])
    if "max_attempts" in retries:
        return int(retries["max_attempts"]) + 1
    return TransportRetries.max_attempts
