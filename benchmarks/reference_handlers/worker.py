"""One fresh process running one handler (ours or a reference), timing every invocation.

Started by ``benchmarks.service_bench`` with a JSON spec on stdin, under the dev venv or under
the Lambda runtime's Python (``python3.12 -I -S -B worker.py``, with the artifact's folders on
``sys.path``), so it uses the standard library only. It measures, in order:

1. ``import``: the handler's module imported (the handler built, when a factory is given) and
   ``first``: its first invocation (a PUT, or one batch), in client-process CPU
   (``time.process_time``) and wall time;
2. each operation ``calls`` times, ``time.process_time()`` around each invocation only (the
   event is built and the answer checked outside it);
3. the HTTP requests of a few more invocations of each operation, counted at the socket (every
   request line and ``X-Amz-Target`` written, whichever HTTP client the handler uses), apart
   from the timed calls.

It writes ``{"import_cpu_s", "first_cpu_s", ..., "ops": {op: [cpu_s, ...]}, "requests": ...}``
to ``spec["out"]``.
"""

from __future__ import annotations

import importlib
import json
import re
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

__all__ = ["API_OPS", "BATCH_OPS", "LIST_SIZE", "MESSAGES_PER_BATCH", "main"]

API_OPS = ("put", "get", "patch", "list")
BATCH_OPS = ("batch",)
LIST_SIZE = 50
MESSAGES_PER_BATCH = 10
COUNTED_INVOCATIONS = 3
# The first actors of the partition, in sort-key order: every list reads these (the runs' own
# ids start with a letter, after the digits).
SEED_PREFIX = "0000-seed-"

Handler = Callable[[dict[str, Any], Any], Any]


class Context:
    """The parts of a Lambda context Powertools reads."""

    function_name = "service-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:service-bench"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/service-bench"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def api_event(
    method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    multi_query = {k: [v] for k, v in (query or {}).items()}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "prod",
            "path": f"/prod{path}",
            "httpMethod": method,
            "resourcePath": "/{proxy+}",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def actor_content(actor_id: str, name: str) -> dict[str, Any]:
    """One actor content, as the API and the queue take it."""
    return {
        "partition_ids": [],
        "content_ids": [actor_id],
        "item": {"id": actor_id, "name": name, "review": "a fine actor"},
    }


def sqs_event(bodies: list[Any]) -> dict[str, Any]:
    """A Lambda SQS event, one record per body."""
    records = [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": "handle",
            "body": json.dumps(body),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1700000000000",
                "SenderId": "sender",
                "ApproximateFirstReceiveTimestamp": "1700000000000",
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest",
            "awsRegion": "us-east-1",
        }
        for body in bodies
    ]
    return {"Records": records}


def event_for(op: str, tag: str, index: int) -> dict[str, Any]:
    """The event of invocation ``index`` of ``op`` (GET and PATCH read what PUT ``index`` wrote)."""
    actor_id = f"{tag}-{index:05d}"
    if op == "put":
        return api_event("PUT", "/records/actor", body=actor_content(actor_id, f"Actor {index}"))
    if op == "get":
        return api_event("GET", "/records/actor/item", query={"content_id": actor_id})
    if op == "patch":
        body = {"set_commands": {"review": f"patched {index}"}}
        return api_event("PATCH", "/records/actor/item", body=body, query={"content_id": actor_id})
    if op == "list":
        return api_event("GET", "/records/actor", query={"limit": str(LIST_SIZE)})
    if op == "batch":
        bodies = [
            {
                "content_type": "actor",
                "contents": [actor_content(f"{tag}-b{index:05d}-{j}", f"Queued {j}")],
            }
            for j in range(MESSAGES_PER_BATCH)
        ]
        return sqs_event(bodies)
    raise ValueError(f"unknown operation {op!r}")


def check(op: str, answer: Any) -> None:
    """Raise unless ``answer`` is the success ``op`` expects."""
    if op == "batch":
        if answer != {"batchItemFailures": []}:
            raise RuntimeError(f"batch: {answer!r}")
        return
    if answer.get("statusCode") != 200:
        raise RuntimeError(f"{op}: {answer.get('statusCode')} {answer.get('body')}")
    if op == "list":
        contents = json.loads(answer["body"])["contents"]
        ids = [c["content_ids"][0] for c in contents]
        if len(ids) != LIST_SIZE or not all(i.startswith(SEED_PREFIX) for i in ids):
            raise RuntimeError(f"list: {len(ids)} contents, not the {LIST_SIZE} seeded: {ids}")


class SocketRequests:
    """Counts the HTTP requests written to any socket, by ``X-Amz-Target`` operation.

    Installed only around the counted invocations (it wraps ``socket.socket.sendall``).
    """

    _TARGET = re.compile(rb"(?im)^x-amz-target:\s*[\w.]*?\.?(\w+)\s*$")
    _REQUEST_LINE = re.compile(rb"(?m)^(?:POST|GET|PUT) \S+ HTTP/1\.1\r$")

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        self._original = socket.socket.sendall

    def __enter__(self) -> SocketRequests:
        original = self._original
        counter = self

        def sendall(sock: socket.socket, data: Any, *args: Any) -> Any:
            raw = bytes(data)
            requests = len(counter._REQUEST_LINE.findall(raw))
            targets = [t.decode() for t in counter._TARGET.findall(raw)]
            counter.by_operation.update(targets)
            if requests > len(targets):
                counter.by_operation["(no target)"] += requests - len(targets)
            return original(sock, data, *args)

        socket.socket.sendall = sendall  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *_: object) -> None:
        socket.socket.sendall = self._original  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        counts = dict(self.by_operation)
        self.by_operation.clear()
        return counts


def load_handler(spec: dict[str, Any]) -> Handler:
    """The handler the spec names: ``module.attribute``, or what ``factory`` (``module:function``)
    builds from ``records_service.settings.Settings.from_env()``."""
    factory = spec.get("factory")
    if factory:  # settings in, handler out
        settings = importlib.import_module("records_service.settings").Settings.from_env()
        module_name, _, attribute = factory.partition(":")
        built: Handler = getattr(importlib.import_module(module_name), attribute)(settings)
        return built
    module_name, _, attribute = spec["handler"].rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Import, first call, timed calls and request counts, as the module docstring says."""
    tag, calls = spec["tag"], spec["calls"]
    ops = API_OPS if spec["function"] == "api" else BATCH_OPS
    cpu, wall = time.process_time(), time.perf_counter()
    handler = load_handler(spec)
    import_cpu, import_wall = time.process_time() - cpu, time.perf_counter() - wall
    first_op = ops[0]
    event = event_for(first_op, f"{tag}-first", 0)
    cpu, wall = time.process_time(), time.perf_counter()
    answer = handler(event, Context())
    first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
    check(first_op, answer)
    timed: dict[str, list[float]] = {}
    for op in ops:
        timed[op] = []
        for index in range(calls):
            event, context = event_for(op, tag, index), Context()
            started = time.process_time()
            answer = handler(event, context)
            timed[op].append(time.process_time() - started)
            check(op, answer)
    requests: dict[str, list[dict[str, int]]] = {}
    with SocketRequests() as counter:
        for op in ops:
            requests[op] = []
            for index in range(COUNTED_INVOCATIONS):
                answer = handler(event_for(op, f"{tag}-counted", index), Context())
                check(op, answer)
                requests[op].append(counter.take())
    return {
        "python": sys.version.split()[0],
        "import_cpu_s": import_cpu,
        "import_wall_s": import_wall,
        "first_cpu_s": first_cpu,
        "first_wall_s": first_wall,
        "ops": timed,
        "requests": requests,
    }


def main() -> None:
    """Read the spec from stdin, run, write the result to ``spec["out"]``."""
    spec = json.load(sys.stdin)
    sys.path[:0] = spec["paths"]
    result = run(spec)
    with open(spec["out"], "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
