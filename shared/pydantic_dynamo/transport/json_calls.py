"""What every JSON-protocol client shares, sync or async: its setup, and one call as steps.

:class:`JsonClientBase` resolves a client's endpoint, region, credentials, signer, retry policy
and quota, proxy and hooks once, and writes a whole call (observers, hooks, signing, retries,
errors) as a sans-I/O generator of steps, as :mod:`pydantic_dynamo.flows` writes the
repository's operations: :class:`Exchange` (POST these headers and body: send me the
:class:`~pydantic_dynamo.transport.http_parser.HttpAnswer`, or throw me the
:class:`~pydantic_dynamo.transport.http.ConnectionFailedError`), :class:`Wait` (back off),
:data:`FREEZE` (send me a credentials snapshot to sign with) and :data:`EXPIRE` (the
credentials expired: refresh them, send me whether that helped). A shell performs the steps
with its own I/O: :class:`~pydantic_dynamo.transport.json_client.JsonServiceClient` with
sockets and ``time.sleep``, :class:`~pydantic_dynamo.transport.async_client.AsyncLeanClient`
with asyncio (and refreshes that block in a thread), so the two never differ in what they send,
retry or raise.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Generator
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import (
    ChecksumError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ProxyConnectionError,
    ReadTimeoutError,
)

from pydantic_dynamo.transport import observers as _observers
from pydantic_dynamo.transport.credentials import EXPIRED_CREDENTIAL_CODES, CredentialSource
from pydantic_dynamo.transport.endpoints import resolve_endpoint, resolve_region
from pydantic_dynamo.transport.errors import ErrorClasses, error_fields, response_metadata
from pydantic_dynamo.transport.http import ConnectionFailedError
from pydantic_dynamo.transport.http_parser import HttpAnswer
from pydantic_dynamo.transport.proxies import proxy_for
from pydantic_dynamo.transport.retries import CLOCK_SKEW_CODES, RetryQuota, TransportRetries
from pydantic_dynamo.transport.service import ServiceSpec
from pydantic_dynamo.transport.signing import Signer
from pydantic_dynamo.transport.wire import decode_body, encode_body

__all__ = [
    "EXPIRE",
    "FREEZE",
    "CallSteps",
    "Exchange",
    "Expire",
    "Freeze",
    "JsonClientBase",
    "Step",
    "Wait",
]

Item = dict[str, Any]

_USER_AGENT = "pydantic-dynamo-lean/1.0"
# A clock this far from the service's is corrected (SigV4 allows five minutes).
_SKEW_TOLERANCE = 60.0


class Exchange:
    """POST ``body`` with ``headers``; answer the ``HttpAnswer`` or throw the failure."""

    __slots__ = ("body", "headers")

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body


class Wait:
    """Back off ``seconds`` before the next try."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Freeze:
    """Answer a credentials snapshot to sign with (``CredentialSource.frozen``)."""

    __slots__ = ()


class Expire:
    """Force a refresh of expired credentials; answer whether new ones may now be used."""

    __slots__ = ()


FREEZE = Freeze()
EXPIRE = Expire()

Step = Exchange | Wait | Freeze | Expire
CallSteps = Generator[Step, Any, Item]


class _ServiceModel:
    """What hooks read of botocore's ServiceModel: the service's names (IAM's prefix is
    ``signing_name``)."""

    __slots__ = ("api_version", "endpoint_prefix", "service_name", "signing_name")

    def __init__(self, spec: ServiceSpec) -> None:
        self.service_name = spec.service_name
        self.signing_name = spec.signing_name
        self.endpoint_prefix = spec.endpoint_prefix
        self.api_version = spec.api_version


class _OperationModel:
    """What hooks see as ``model``: the operation's name and its service, as on botocore's
    OperationModel."""

    __slots__ = ("name", "service_model")

    def __init__(self, name: str, service_model: _ServiceModel) -> None:
        self.name = name
        self.service_model = service_model


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

    def __init__(
        self, endpoint_url: str, region_name: str, max_attempts: int, service: _ServiceModel
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self.max_attempts = max_attempts
        self.service_model = service
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


class _Tries:
    """How many times an observed call was sent (an answer-less failure reports it too)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class JsonClientBase:
    """A client of one AWS JSON-protocol service, without its I/O (see the module doc).

    Subclasses name the service (``SERVICE``) and perform :meth:`_call_steps`. Arguments are
    boto3's: ``endpoint_url``, ``region_name``, ``aws_access_key_id``,
    ``aws_secret_access_key``, ``aws_session_token``; ``config`` (a botocore ``Config``) is read
    for ``retries`` (``max_attempts``/``total_max_attempts``), ``max_pool_connections``,
    ``connect_timeout``, ``read_timeout``, ``proxies``, ``use_fips_endpoint`` and
    ``use_dualstack_endpoint``. Unlike botocore's, ``read_timeout`` bounds each try as a whole
    (sending the request and reading its whole answer), not each socket read, so a server that
    trickles its answer cannot hold a call. ``credentials`` takes a botocore credentials object
    (refreshable ones refresh; an async client also takes aiobotocore's), ``retries`` a
    :class:`TransportRetries`.
    """

    SERVICE: ServiceSpec

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
        spec = self.SERVICE
        region = resolve_region(region_name)
        self._url = resolve_endpoint(region, endpoint_url, service=spec, config=config)
        self._credentials = CredentialSource(
            aws_access_key_id, aws_secret_access_key, aws_session_token, credentials=credentials
        )
        self._signer = Signer(region, spec.signing_name)
        self._retries = retries or TransportRetries(max_attempts=_max_attempts(config))
        self._quota = RetryQuota()
        self._service_model = _ServiceModel(spec)
        self.meta = _Meta(self._url, region, self._retries.max_attempts, self._service_model)
        self._proxy = proxy_for(self._url, config)
        # What the subclass's connection pool is built with.
        self._pool_options: dict[str, Any] = {
            "max_connections": getattr(config, "max_pool_connections", None) or 10,
            "connect_timeout": getattr(config, "connect_timeout", None) or 60.0,
            "read_timeout": getattr(config, "read_timeout", None) or 60.0,
            "proxy": self._proxy,
        }
        self._host = self._url.split("://", 1)[-1].split("/", 1)[0]
        self._event_name = spec.event_name
        self._boto3_kwargs: dict[str, Any] = {"endpoint_url": self._url, "region_name": region}
        if config is not None:
            self._boto3_kwargs["config"] = config
        if aws_access_key_id and aws_secret_access_key:
            self._boto3_kwargs.update(
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
            )
        self.exceptions = ErrorClasses()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(endpoint_url={self._url!r}, "
            f"region_name={self.meta.region_name!r})"
        )

    def client_kwargs(self) -> dict[str, Any]:
        """boto3 client arguments for the same endpoint, region, config and explicit keys."""
        return dict(self._boto3_kwargs)

    # -- one call, as steps ----------------------------------------------------------------------

    def _call_steps(self, operation: str, params: Item) -> CallSteps:
        if _observers.observers():
            return (yield from self._observed(operation, params))
        return (yield from self._unobserved(operation, params, None))

    def _unobserved(self, operation: str, params: Item, tries: _Tries | None) -> CallSteps:
        events = self.meta.hooks
        if events is None:
            answer, parsed = yield from self._send(operation, params, None, tries)
        else:
            answer, parsed = yield from self._hooked(events, operation, params, tries)
        if answer.status_code >= 300:
            code = parsed.get("Error", {}).get("Code")
            error_class = self.exceptions.of(code) if code else ClientError
            raise error_class(parsed, operation)  # type: ignore[arg-type]
        return parsed

    def _observed(self, operation: str, params: Item) -> CallSteps:
        call = _observers.CallInfo(
            self.SERVICE.signing_name, operation, self.meta.region_name, params
        )
        started = _observers.notify_start(call)
        tries = _Tries()
        try:
            parsed = yield from self._unobserved(operation, params, tries)
        except BaseException as error:
            response = getattr(error, "response", None)
            metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
            _notify_finish(started, metadata, tries, error)
            raise
        _notify_finish(started, parsed.get("ResponseMetadata", {}), tries, None)
        return parsed

    def _hooked(
        self, events: Any, operation: str, params: Item, tries: _Tries | None
    ) -> Generator[Step, Any, tuple[Any, Item]]:
        model = _OperationModel(operation, self._service_model)
        context: Item = {}
        name = self._event_name
        events.emit(
            f"before-parameter-build.{name}.{operation}",
            params=params,
            model=model,
            context=context,
        )
        _, short_circuit = events.emit_until_response(
            f"before-call.{name}.{operation}",
            model=model,
            params=params,
            request_signer=None,
            context=context,
        )
        if short_circuit is not None:
            answer, parsed = short_circuit
        else:
            answer, parsed = yield from self._send(operation, params, events, tries)
        events.emit(
            f"after-call.{name}.{operation}",
            http_response=answer,
            parsed=parsed,
            model=model,
            context=context,
        )
        return answer, parsed

    def _send(
        self, operation: str, params: Item, events: Any, tries: _Tries | None
    ) -> Generator[Step, Any, tuple[Any, Item]]:
        body = encode_body(params)
        retries, quota = self._retries, self._quota
        attempt = 0
        spent = 0  # what the latest retry took from the quota
        skew_corrected = refreshed = False
        while True:
            attempt += 1
            if tries is not None:
                tries.count = attempt
            last = attempt >= retries.max_attempts
            try:
                answer = yield from self._exchange(operation, body, events)
            except ConnectionFailedError as failure:
                timeout = failure.kind == "read-timeout"
                if last or not (spent := quota.acquire(timeout=timeout)):
                    raise self._connection_error(failure) from failure
                yield Wait(retries.delay(attempt))
                continue
            if answer.status_code < 300:
                if not _crc32_matches(answer):
                    if last or not (spent := quota.acquire(timeout=False)):
                        raise ChecksumError(
                            checksum_type="crc32",
                            expected_checksum=answer.headers.get("x-amz-crc32", ""),
                            actual_checksum=str(zlib.crc32(answer.content)),
                        )
                    yield Wait(retries.delay(attempt))
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
                    if (yield EXPIRE):
                        continue
                if retryable and (spent := quota.acquire(timeout=False)):
                    yield Wait(retries.delay(attempt))
                    continue
            fields["ResponseMetadata"] = response_metadata(
                answer.status_code, answer.headers, attempt - 1, exhausted=last and retryable
            )
            return answer, fields

    def _exchange(self, operation: str, body: bytes, events: Any) -> Generator[Step, Any, Any]:
        spec = self.SERVICE
        headers = {
            "Host": self._host,
            "Content-Type": spec.content_type,
            "X-Amz-Target": spec.target(operation),
            "User-Agent": _USER_AGENT,
        }
        self._signer.sign((yield FREEZE), self._url, body, headers)
        if events is not None:
            request = _HookRequest(self._url + "/", body, headers)
            _, answer = events.emit_until_response(
                f"before-send.{self._event_name}.{operation}", request=request
            )
            if answer is not None:
                return answer
        return (yield Exchange(headers, body))

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
        if failure.kind == "proxy" and self._proxy is not None:
            # The proxy's URL without its user and password: errors get logged.
            return ProxyConnectionError(proxy_url=self._proxy.url, error=str(failure))
        if failure.kind in ("connect", "proxy"):
            return EndpointConnectionError(endpoint_url=self._url)
        if failure.kind == "read-timeout":
            return ReadTimeoutError(endpoint_url=self._url)
        return ConnectionClosedError(endpoint_url=self._url)


def _notify_finish(
    started: _observers.Started, metadata: Item, tries: _Tries, error: BaseException | None
) -> None:
    _observers.notify_finish(
        started,
        status=metadata.get("HTTPStatusCode"),
        request_id=metadata.get("RequestId") or None,
        retries=metadata.get("RetryAttempts", max(tries.count - 1, 0)),
        error=error,
    )


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
