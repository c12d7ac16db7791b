"""X-Ray subsegments for the lean clients' AWS calls, as the X-Ray SDK records boto3's.

The X-Ray SDK traces boto3 by patching botocore (``aws_xray_sdk.ext.botocore``); the lean
clients never enter botocore's call path, so :class:`XRayObserver` (a call observer of
:mod:`pydantic_dynamo.transport.observers`) records the same subsegment from what the client
tells it: named for the service's endpoint prefix (``dynamodb``, ``events``, which the X-Ray
service map shows as DynamoDB and EventBridge), in the ``aws`` namespace, with ``aws`` metadata
``operation``, ``region``, ``request_id`` and the request parameters of the SDK's own whitelist
(``aws_xray_sdk/ext/resources/aws_para_whitelist.json``: ``table_name``, ``table_names``,
``index_name``, ...), the HTTP status (which sets the error, throttle and fault flags as the SDK
does: 4xx error, 429 throttle too, 5xx fault) and an AWS error answer as a remote exception
(which sets the fault flag, as ``Subsegment.add_exception`` does).

Where it records more than the SDK, on purpose:

- ``retries``: how many times the call was sent again (the X-Ray segment document's
  ``aws.retries``, which the Python SDK leaves out);
- ``table_names`` as a list of names (the SDK stores ``dict.keys()``, which reaches X-Ray as the
  string ``"dict_keys([...])"``);
- an error that is not an AWS answer (a connection refused, a timeout) as a local exception and a
  fault; the SDK's botocore patch records nothing for it, so the trace would look healthy.

And less: the whitelist's response fields (``Count`` and ``ScannedCount`` of a Scan,
``ConsumedCapacity`` and ``ItemCollectionMetrics`` when asked for) are not recorded, since an
observer sees the call's status, not its answer. Nor is a trace header added to the request
(DynamoDB does not propagate one).

This module is the only one of the library that imports ``aws_xray_sdk``; import it only where
tracing is on (``records_service.observability`` does so in Lambda with tracing enabled).

>>> from aws_xray_sdk.core import AWSXRayRecorder
>>> from aws_xray_sdk.core.context import Context
>>> from pydantic_dynamo.transport.observers import CallInfo
>>> recorder = AWSXRayRecorder()
>>> recorder.configure(sampling=False, context=Context(), context_missing="IGNORE_ERROR")
>>> observer = XRayObserver(recorder)
>>> segment = recorder.begin_segment("example")
>>> call = CallInfo("dynamodb", "GetItem", "eu-west-1", {"TableName": "records", "Key": {}})
>>> started = observer.start(call)
>>> observer.finish(started, call, status=200, request_id="R1", retries=0, error=None)
>>> subsegment = segment.subsegments[0].to_dict()
>>> subsegment["name"], subsegment["namespace"], subsegment["http"]
('dynamodb', 'aws', {'response': {'status': 200}})
>>> subsegment["aws"]
{'operation': 'GetItem', 'region': 'eu-west-1', 'request_id': 'R1', 'table_name': 'records', \
'retries': 0}
"""

from __future__ import annotations

import json
import pkgutil
import time
import traceback
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_xray_sdk.core.models import http  # type: ignore[import-untyped]
from aws_xray_sdk.ext.util import to_snake_case  # type: ignore[import-untyped]
from botocore.exceptions import ClientError

from pydantic_dynamo.transport.observers import CallInfo

__all__ = ["XRayObserver"]

NAMESPACE = "aws"


class XRayObserver:
    """Records each lean-client call as an X-Ray subsegment of ``recorder``'s current entity.

    ``recorder`` is an ``aws_xray_sdk`` recorder (the Powertools Tracer's ``provider``, which is
    ``aws_xray_sdk.core.xray_recorder``). Register it with
    :func:`~pydantic_dynamo.transport.observers.add_observer`. Calls made with no open segment
    follow the recorder's ``context_missing`` setting, as the SDK's own patches do; an
    unsampled segment gets the SDK's no-op subsegments.
    """

    __slots__ = ("_recorder",)

    def __init__(self, recorder: Any) -> None:
        self._recorder = recorder

    def __repr__(self) -> str:
        return f"XRayObserver({self._recorder!r})"

    def start(self, call: CallInfo) -> Any:
        """Open the call's subsegment (``None`` when the recorder has no segment to hold it)."""
        # The signing name is the endpoint prefix the SDK names subsegments for, for both
        # services the lean clients speak (botocore's models: dynamodb, events).
        return self._recorder.begin_subsegment(call.service, NAMESPACE)

    def finish(
        self,
        started: Any,
        call: CallInfo,
        *,
        status: int | None,
        request_id: str | None,
        retries: int,
        error: BaseException | None,
    ) -> None:
        """Fill the subsegment ``start`` opened and close it."""
        if started is None:
            return
        end_time = time.time()
        try:
            self._fill(started, call, status, request_id, retries, error)
        finally:
            # Closed whatever happened, or the next calls would nest under it.
            self._recorder.end_subsegment(end_time)

    def _fill(
        self,
        subsegment: Any,
        call: CallInfo,
        status: int | None,
        request_id: str | None,
        retries: int,
        error: BaseException | None,
    ) -> None:
        aws: dict[str, Any] = {"operation": call.operation, "region": call.region}
        if status is not None:
            # The SDK records these whenever an answer came (ResponseMetadata), error or not.
            aws["request_id"] = request_id
            subsegment.put_http_meta(http.STATUS, status)
        if error is not None:
            subsegment.add_exception(
                error,
                self._stack(error),
                remote=isinstance(error, ClientError) and status is not None,
            )
        aws.update(_whitelisted(call.service, call.operation, call.params))
        aws["retries"] = retries
        subsegment.set_aws(aws)

    def _stack(self, error: BaseException) -> list[traceback.FrameSummary]:
        # What the SDK's record_subsegment takes: the caller's stack, then the error's own frames.
        stack = traceback.extract_stack()[:-3]  # from the caller of finish
        if error.__traceback__ is not None:
            stack.extend(traceback.extract_tb(error.__traceback__))
        limit: int | None = self._recorder.max_trace_back
        if limit is None:
            return list(stack)
        return list(stack[-limit:]) if limit > 0 else list(stack[: abs(limit)])


def _whitelisted(service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The request parameters the SDK's whitelist records for ``service``'s ``operation``."""
    wanted = _whitelist().get(service, {}).get("operations", {}).get(operation)
    if not wanted:
        return {}
    recorded: dict[str, Any] = {}
    for name in wanted.get("request_parameters", ()):
        if name in params:
            recorded[to_snake_case(name)] = params[name]
    for name, descriptor in wanted.get("request_descriptors", {}).items():
        if name in params:
            value = params[name]
            if descriptor.get("get_count"):
                value = len(value)
            if descriptor.get("get_keys"):
                value = list(value.keys())
            recorded[descriptor["rename_to"]] = value
    return recorded


@cache
def _whitelist() -> dict[str, Any]:
    # The SDK's own data file, read once: whatever it records for boto3, this records too.
    data = pkgutil.get_data("aws_xray_sdk.ext", "resources/aws_para_whitelist.json")
    if data is None:
        raise FileNotFoundError("aws_xray_sdk/ext/resources/aws_para_whitelist.json")
    services: dict[str, Any] = json.loads(data)["services"]
    return services
