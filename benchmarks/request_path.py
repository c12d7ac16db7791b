"""Where one request's client CPU goes: the socket floor, the HTTP pool, the repository's Python.

For ``get`` and ``update`` of one workload item (the side-by-side benchmark's single-item ops),
each timed in ``--repeat`` interleaved rounds of ``--calls`` calls, against a DynamoDB Local
started here (client process CPU, ``time.process_time``, median per call in µs):

- *socket floor*: the repository's own signed requests for the operation, recorded (three,
  sent in turn: an update's write token refuses a resend of the last two writes), each written
  with one ``sendall`` on a kept-alive ``TCP_NODELAY`` socket and its answer read with ``recv``
  until its ``Content-Length`` is in, and checked to be a 200: the kernel's loopback and the
  wake-up after the wait, with as little Python as a client can have;
- *HttpPool.post*: the same requests through the lean transport's pool (the sans-I/O parser
  included);
- *repository, live*: ``SyncDynamoRepository.get`` / ``.update`` and the async repository's
  (own lean clients), as the side-by-side benchmark runs them;
- *repository, canned answers*: the same calls with the pool replaced by one that returns the
  operation's recorded answer without any I/O: the library's Python path, run warm.

The last two side by side show how much more the same Python costs when it runs right after a
blocking wait (caches and predictors cold, the server having run meanwhile) than in a warm loop.

``python -m benchmarks.request_path [--calls 200] [--repeat 7] [--write-docs]``
(``--write-docs`` replaces this benchmark's section of ``docs/benchmarks.md``, which
``benchmarks.run`` keeps when it rewrites the file).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import os
import socket
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from benchmarks import service_bench
from benchmarks.admin import admin_client
from benchmarks.harness import print_medians
from benchmarks.models import Example, make_examples
from benchmarks.workload import (
    CONTENT_TYPE,
    PARTITION_IDS,
    PARTITION_KEY,
    PARTITION_NAME,
    PARTITION_PREFIX,
    SORT_KEY,
)
from local_stack.dynamodb_local import create_records_table, start_dynamodb_local
from pydantic_dynamo import (
    DynamoRepository,
    PartitionedContent,
    SyncDynamoRepository,
    UpdateCommand,
)
from pydantic_dynamo.transport.http import HttpPool
from pydantic_dynamo.transport.http_parser import HttpAnswer, request_bytes

MARKERS = ("<!-- request-path:start -->", "<!-- request-path:end -->")
HEADING = "Where one request's CPU goes"
TABLE = "request-path-bench"
ITEMS = 20
OPERATIONS = ("GetItem", "UpdateItem")
# Requests recorded per operation, replayed in turn. An update carries its own write token and
# is refused once that token is the item's current or prior one (the library's guard against
# its own resends): with three updates in rotation, each replayed token was displaced two
# writes ago, so every replay applies, as the live update does.
RECORDED = 3


class _Recorder:
    """Stands in for a pool: passes each request on, keeping the first RECORDED successful
    requests of each operation and the first answer."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.requests: dict[str, list[tuple[dict[str, str], bytes]]] = {}
        self.answers: dict[str, HttpAnswer] = {}

    def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:
        answer: HttpAnswer = self.pool.post(headers, body)
        self._keep(headers, body, answer)
        return answer

    def _keep(self, headers: dict[str, str], body: bytes, answer: HttpAnswer) -> None:
        operation = headers["X-Amz-Target"].rpartition(".")[2]
        kept = self.requests.setdefault(operation, [])
        if answer.status_code == 200 and len(kept) < RECORDED:
            kept.append((dict(headers), body))
            self.answers.setdefault(operation, answer)


class _Canned:
    """A pool that answers each operation with its recorded answer, without I/O."""

    def __init__(self, answers: dict[str, HttpAnswer]) -> None:
        self.answers = answers

    def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:
        request_bytes(headers, body)  # what the real pool builds before sending
        return self.answers[headers["X-Amz-Target"].rpartition(".")[2]]


class _AsyncCanned(_Canned):
    async def post(self, headers: dict[str, str], body: bytes) -> HttpAnswer:  # type: ignore[override]
        return _Canned.post(self, headers, body)

    async def close(self) -> None:
        return None


Case = Callable[[int], object]
"""Makes ``n`` calls of one case."""


Turn = Iterator[tuple[dict[str, str], bytes]]
"""The recorded requests of one operation, in turn, shared by every case that replays them."""


def _socket_exchange(endpoint: str, turn: Turn) -> Callable[[], object]:
    """Each call sends the next request of ``turn`` and reads its whole answer, which must be
    a 200."""
    parts = urlsplit(endpoint)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def exchange() -> object:
        sock.sendall(request_bytes(*next(turn)))
        data = sock.recv(65536)
        while True:
            head, separator, body = data.partition(b"\r\n\r\n")
            if separator:
                lines = head.split(b"\r\n")
                length = next(
                    int(v)
                    for n, _, v in (x.partition(b":") for x in lines)
                    if n.lower() == b"content-length"
                )
                if len(body) >= length:
                    if not head.startswith(b"HTTP/1.1 200 "):
                        raise RuntimeError(f"a replay was refused: {data[:300]!r}")
                    return body
            data += sock.recv(65536)

    return exchange


def _pool_exchange(pool: HttpPool, turn: Turn) -> Case:
    """The requests of ``turn`` through the pool; each answer must be a 200."""

    def calls(n: int) -> None:
        for _ in range(n):
            headers, body = next(turn)
            answer = pool.post(headers, body)
            if answer.status_code != 200:
                raise RuntimeError(f"a replay was refused: {answer.content[:300]!r}")

    return calls


def _repeated(function: Callable[[], object]) -> Case:
    def calls(n: int) -> None:
        for _ in range(n):
            function()

    return calls


def _per_call_us(case: Case, calls: int) -> float:
    started = time.process_time()
    case(calls)
    return (time.process_time() - started) / calls * 1e6


def _sync_calls(repo: SyncDynamoRepository[Example]) -> dict[str, Case]:
    partition = list(PARTITION_IDS)
    counter = iter(range(10**9))
    return {
        "get": _repeated(lambda: repo.get(partition, ["000001"])),
        "update": _repeated(
            lambda: repo.update(
                partition, ["000002"], UpdateCommand(set_commands={"int_field": next(counter)})
            )
        ),
    }


def _async_calls(
    repo: DynamoRepository[Example], loop: asyncio.AbstractEventLoop
) -> dict[str, Case]:
    """Each case runs its ``n`` calls in one coroutine, as the side-by-side benchmark does."""
    partition = list(PARTITION_IDS)
    counter = iter(range(10**9))

    def run(make: Callable[[], Awaitable[object]]) -> Case:
        async def many(n: int) -> None:
            for _ in range(n):
                await make()

        return lambda n: loop.run_until_complete(many(n))

    return {
        "get": run(lambda: repo.get(partition, ["000001"])),
        "update": run(
            lambda: repo.update(
                partition, ["000003"], UpdateCommand(set_commands={"int_field": next(counter)})
            )
        ),
    }


def _intro() -> str:
    """The docs section's opening: this docstring between its title and its command line."""
    body, separator, _ = (__doc__ or "").partition("\n\n``python")
    if not separator:
        raise RuntimeError("request_path's docstring lost its command line")
    return body.partition("\n\n")[2].strip()


def docs_body(times: dict[str, list[float]], calls: int, repeat: int) -> str:
    """The section's figures: when and how measured, the table, and per operation what the
    repository's Python costs warm (canned answers) against after a wait (live minus the
    pool's exchange of the same request)."""
    median = {name: statistics.median(values) for name, values in times.items()}
    now = datetime.datetime.now(datetime.UTC)
    lines = [
        f"Measured {now:%Y-%m-%d %H:%M} UTC, load average (1 min) {os.getloadavg()[0]:.2f}; "
        f"client CPU per call, median (min-max) of {repeat} rounds of {calls} calls.",
        "",
        "| case | µs per call (min-max) |",
        "|---|---:|",
        *(
            f"| {name} | {median[name]:.1f} ({min(values):.1f}-{max(values):.1f}) |"
            for name, values in times.items()
        ),
        "",
    ]
    for op in ("get", "update"):
        floor = median[f"{op}: socket floor (recorded request, sendall + recv)"]
        pool = median[f"{op}: HttpPool.post (same request)"]
        for side in ("sync", "async"):
            live = median[f"{op}: repository, live ({side})"]
            warm = median[f"{op}: repository, canned answers ({side})"]
            rest = live - pool
            loop = " (with the event loop's own I/O work)" if side == "async" else ""
            lines.append(
                f"- {op}, {side}: the repository's Python costs {warm:.0f} µs warm; in the live "
                f"call, everything but the pool's {pool:.0f} µs exchange costs {rest:.0f}{loop}, "
                f"{rest / warm:.1f} times as much; the socket floor is {floor:.0f}."
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true", help="rewrite its docs section")
    args = parser.parse_args(argv)
    for name, value in (("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "bench")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with start_dynamodb_local() as server:
        url = server.endpoint_url
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = url
        create_records_table(admin_client(url), TABLE, PARTITION_KEY, SORT_KEY)
        construction: dict[str, Any] = {
            "item_class": Example,
            "partition_prefix": PARTITION_PREFIX,
            "partition_name": PARTITION_NAME,
            "content_type": CONTENT_TYPE,
            "table_name": TABLE,
            "partition_key": PARTITION_KEY,
            "sort_key": SORT_KEY,
        }
        sync_repo = SyncDynamoRepository[Example](**construction)
        sync_repo.put_batch(
            [
                PartitionedContent[Example](
                    partition_ids=list(PARTITION_IDS), content_ids=[f"{i:06d}"], item=item
                )
                for i, item in enumerate(make_examples(ITEMS))
            ]
        )
        client: Any = sync_repo.client
        recorder = _Recorder(client._http)  # the lean client's pool: a benchmark may reach in
        client._http = recorder
        sync_live = _sync_calls(sync_repo)
        for case in sync_live.values():
            case(RECORDED)
        client._http = recorder.pool
        recorded = {operation: len(kept) for operation, kept in recorder.requests.items()}
        if recorded != dict.fromkeys(OPERATIONS, RECORDED):
            raise SystemExit(f"recorded {recorded}, expected {RECORDED} of each of {OPERATIONS}")

        loop = asyncio.new_event_loop()
        async_repo = DynamoRepository[Example](**construction)
        async_live = _async_calls(async_repo, loop)
        for case in async_live.values():
            case(1)  # connects, warms

        pool = HttpPool(url)
        cases: dict[str, Case] = {}
        for op, operation in (("get", "GetItem"), ("update", "UpdateItem")):
            turn = itertools.cycle(recorder.requests[operation])
            cases[f"{op}: socket floor (recorded request, sendall + recv)"] = _repeated(
                _socket_exchange(url, turn)
            )
            cases[f"{op}: HttpPool.post (same request)"] = _pool_exchange(pool, turn)
            cases[f"{op}: repository, live (sync)"] = sync_live[op]
            cases[f"{op}: repository, live (async)"] = async_live[op]

        canned_sync = SyncDynamoRepository[Example](**construction)
        canned_client: Any = canned_sync.client
        canned_client._http = _Canned(recorder.answers)
        canned_async = DynamoRepository[Example](**construction)
        async_client: Any = canned_async.client
        async_client._http = _AsyncCanned(recorder.answers)
        for op, call in _sync_calls(canned_sync).items():
            cases[f"{op}: repository, canned answers (sync)"] = call
        for op, call in _async_calls(canned_async, loop).items():
            cases[f"{op}: repository, canned answers (async)"] = call

        ordered = dict(sorted(cases.items(), key=lambda case: case[0].startswith("update")))
        times: dict[str, list[float]] = {name: [] for name in ordered}
        for case in ordered.values():
            case(1)
        for _ in range(args.repeat):
            for name, case in ordered.items():
                times[name].append(_per_call_us(case, args.calls))
        loop.run_until_complete(async_repo.aclose())
        loop.close()
        sync_repo.close()
    print_medians(
        f"client CPU per call, median of {args.repeat} rounds of {args.calls} calls",
        "µs per call",
        times,
    )
    section = docs_body(times, args.calls, args.repeat)
    print(section.rpartition("|\n")[2])
    if args.write_docs:
        service_bench.write_program_section(
            section,
            argv,
            module="benchmarks.request_path",
            markers=MARKERS,
            heading=HEADING,
            intro=_intro(),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
