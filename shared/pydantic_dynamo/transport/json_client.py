"""One sync client for AWS's JSON protocol, shared by the lean DynamoDB and EventBridge clients.

:class:`JsonServiceClient` performs the steps of a call as
:class:`~pydantic_dynamo.transport.json_calls.JsonClientBase` writes them, whatever the service
(its :class:`~pydantic_dynamo.transport.service.ServiceSpec` says which): a request is one JSON
encode, one SigV4 signature (:mod:`~pydantic_dynamo.transport.signing`) and one POST on a
kept-alive connection (:mod:`~pydantic_dynamo.transport.http`, through a proxy when the
environment says so: :mod:`~pydantic_dynamo.transport.proxies`); an answer one JSON decode.
Retries follow botocore's standard mode (:mod:`~pydantic_dynamo.transport.retries`), waiting
with ``time.sleep``; errors are botocore ``ClientError``\\ s shaped as boto3's
(:mod:`~pydantic_dynamo.transport.errors`).

Hooks: ``client.meta.events`` is a botocore event emitter (created on first access; a client
nobody hooks into never emits) on which ``before-parameter-build``, ``before-call``,
``before-send`` and ``after-call`` fire as botocore fires them (named by the service's id:
``before-call.dynamodb.PutItem``, ``before-call.eventbridge.PutEvents``), with ``params``,
``context``, ``request``, ``http_response`` and ``parsed``. Observers registered with
:func:`pydantic_dynamo.transport.observers.add_observer` are told of every call, hooked or not.

Any other method (``describe_table``, paginators...) is delegated to a boto3 client built on
first use for the same service, endpoint, region and credentials.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic_dynamo.transport.http import HttpPool
from pydantic_dynamo.transport.json_calls import Exchange, Freeze, JsonClientBase, Step, Wait

__all__ = ["JsonServiceClient"]

Item = dict[str, Any]


class JsonServiceClient(JsonClientBase):
    """A sync client of one AWS JSON-protocol service (see the module doc); subclasses name the
    service (``SERVICE``) and its operations.

    Arguments are boto3's (see :class:`~pydantic_dynamo.transport.json_calls.JsonClientBase`).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._http = HttpPool(self._url, **self._pool_options)
        self._boto3: Any = None

    # -- everything else: boto3 -----------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._boto3 is None:
            from pydantic_dynamo.boto3_client import create_service_client

            self._boto3 = create_service_client(self.SERVICE.service_name, **self._boto3_kwargs)
        return getattr(self._boto3, name)

    def close(self) -> None:
        """Close the pooled connections (and the boto3 client, if one was made)."""
        self._http.close()
        if self._boto3 is not None:
            self._boto3.close()

    # -- one call -------------------------------------------------------------------------------

    def _call(self, operation: str, params: Item) -> Item:
        steps = self._call_steps(operation, params)
        reply: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = steps.send(reply) if error is None else steps.throw(error)
            except StopIteration as stop:
                result: Item = stop.value
                return result
            reply, error = None, None
            try:
                reply = self._perform(step)
            except BaseException as raised:  # the steps decide (observers see it, too)
                error = raised

    def _perform(self, step: Step) -> Any:
        if type(step) is Exchange:
            return self._http.post(step.headers, step.body)
        if type(step) is Freeze:
            return self._credentials.frozen()
        if type(step) is Wait:
            time.sleep(step.seconds)
            return None
        return self._credentials.expire()
