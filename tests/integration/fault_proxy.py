"""An HTTP proxy in front of DynamoDB Local that misbehaves on purpose, for the lean transport.

Each request is handed to a ``Plan``: a function of the request's number (1-based, over the
proxy's life), its operation and its headers, answering one of the ``Fault``\\ s:

- ``PASS``: forward to DynamoDB Local and relay the answer;
- ``THROTTLE``: answer 400 ``ProvisionedThroughputExceededException`` without forwarding;
- ``FAIL_500``: answer 500 ``InternalServerError`` without forwarding;
- ``DROP_BEFORE``: close the connection without forwarding (the request never arrived);
- ``DROP_AFTER``: forward, then close the connection instead of answering (the write happened,
  the client cannot know);
- ``EXPIRED``: answer 400 ``ExpiredTokenException``;
- ``SKEWED``: answer 400 ``InvalidSignatureException`` with a ``Date`` an hour ahead;
- ``CLOSE_IDLE``: forward and answer as usual (keep-alive), then close the connection, as a
  server does with a connection idle too long;
- ``UNPROCESSED``: for BatchWriteItem and BatchGetItem, forward only part of the write requests
  (keys) and answer the rest as ``UnprocessedItems`` (``UnprocessedKeys``), in DynamoDB's JSON
  shape, merged into DynamoDB Local's own answer; the proxy's ``hold`` chooses what is held back
  (by default a seeded random share). Other operations pass;
- ``TRICKLE``: forward, then send the whole answer (head and body) ``trickle_bytes`` at a time,
  spread over ``trickle_seconds``: every single read is quick, the whole answer slow;
- ``DELAY``: forward, then answer after ``delay`` seconds (the write happened at once).

``random_plan`` and ``mixed_plan`` fault a seeded random share of requests, ``fault_after``
every request after the first few; ``hold_share`` and ``hold_sort_keys`` choose what
``UNPROCESSED`` holds back. ``max_faults_per_request`` caps how often one request (the same
body, as a client's retry resends it) meets a fault, so that a client's retries always end in
an answer: the faults then test what a resend does, never that retries run out.

The proxy serves on 127.0.0.1 only, every wait in it is bounded and ends when ``close`` is
called, and it records every request's operation and access key id, never a signature.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import time
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "Fault",
    "FaultProxy",
    "Hold",
    "Plan",
    "Seen",
    "fault_after",
    "hold_share",
    "hold_sort_keys",
    "mixed_plan",
    "random_plan",
]

Item = dict[str, Any]


class Fault(Enum):
    """What the proxy does with one request."""

    PASS = "pass"
    THROTTLE = "throttle"
    FAIL_500 = "500"
    DROP_BEFORE = "drop-before"
    DROP_AFTER = "drop-after"
    EXPIRED = "expired"
    SKEWED = "skewed"
    CLOSE_IDLE = "close-idle"
    UNPROCESSED = "unprocessed"
    TRICKLE = "trickle"
    DELAY = "delay"


Plan = Callable[[int, str, dict[str, str]], Fault]
# For UNPROCESSED: given the operation and one table's write requests (BatchWriteItem) or keys
# (BatchGetItem), the entries to hold back (the very objects, or equal ones).
Hold = Callable[[str, list[Item]], list[Item]]

_BATCH_OPERATIONS = frozenset({"BatchWriteItem", "BatchGetItem"})

_ERRORS: dict[Fault, tuple[int, str, str]] = {
    Fault.THROTTLE: (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    Fault.FAIL_500: (500, "InternalServerError", "Internal server error"),
    Fault.EXPIRED: (400, "ExpiredTokenException", "The security token included has expired"),
    Fault.SKEWED: (400, "InvalidSignatureException", "Signature expired"),
}

# Every socket wait of the proxy ends within this (an idle kept-alive client connection too).
_SOCKET_TIMEOUT = 30.0


# -- plans ---------------------------------------------------------------------------------------


def mixed_plan(
    seed: int, faults: Mapping[Fault, float], operations: Collection[str] | None = None
) -> Plan:
    """Each request of ``operations`` (all when ``None``) meets fault F with probability
    ``faults[F]`` (the shares add up to at most 1), seeded: the same arrival order meets the
    same faults. Other operations pass."""
    total = sum(faults.values())
    if not 0.0 <= total <= 1.0 or any(share < 0 for share in faults.values()):
        raise ValueError("fault probabilities must be >= 0 and add up to at most 1")
    rng = random.Random(seed)
    choices = list(faults.items())
    chosen = frozenset(operations) if operations is not None else None

    def plan(number: int, operation: str, headers: dict[str, str]) -> Fault:
        if chosen is not None and operation not in chosen:
            return Fault.PASS
        draw = rng.random()  # the proxy calls plans under its lock: one draw per request
        for fault, share in choices:
            if draw < share:
                return fault
            draw -= share
        return Fault.PASS

    return plan


def random_plan(
    seed: int, p: float, fault: Fault, operations: Collection[str] | None = None
) -> Plan:
    """``fault`` with probability ``p`` on each request of ``operations``, seeded."""
    return mixed_plan(seed, {fault: p}, operations)


def fault_after(first: int, fault: Fault, operations: Collection[str]) -> Plan:
    """The first ``first`` requests of ``operations`` pass, every later one meets ``fault``."""
    counted = 0

    def plan(number: int, operation: str, headers: dict[str, str]) -> Fault:
        nonlocal counted
        if operation not in operations:
            return Fault.PASS
        counted += 1
        return Fault.PASS if counted <= first else fault

    return plan


def hold_share(seed: int, share: float) -> Hold:
    """Hold back each entry with probability ``share``, seeded."""
    rng = random.Random(seed)

    def hold(operation: str, entries: list[Item]) -> list[Item]:
        return [entry for entry in entries if rng.random() < share]

    return hold


def _sort_value(entry: Item, sort_key: str) -> str | None:
    body = entry.get("PutRequest", {}).get("Item") or entry.get("DeleteRequest", {}).get("Key")
    value = (body or entry).get(sort_key, {}).get("S")
    return value if isinstance(value, str) else None


def hold_sort_keys(values: Collection[str], sort_key: str = "SORT_KEY") -> Hold:
    """Always hold back the entries whose sort key value is one of ``values`` (stubborn work)."""
    stubborn = frozenset(values)

    def hold(operation: str, entries: list[Item]) -> list[Item]:
        return [entry for entry in entries if _sort_value(entry, sort_key) in stubborn]

    return hold


# -- the proxy -----------------------------------------------------------------------------------


@dataclass
class Seen:
    """One request as the proxy saw it, and what it did with it (``held``: entries held back
    by ``UNPROCESSED``)."""

    number: int
    operation: str
    access_key: str
    fault: Fault
    held: int = 0


@dataclass
class _State:
    upstream: str
    plan: Plan
    hold: Hold
    max_faults_per_request: int | None
    delay: float
    trickle_seconds: float
    trickle_bytes: int
    seen: list[Seen] = field(default_factory=list)
    faulted: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def _access_key(authorization: str) -> str:
    # "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ..."
    return authorization.partition("Credential=")[2].partition("/")[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _SOCKET_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Head and body go out in separate writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK of the head, 40 ms per answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is the assertions."""

    def do_POST(self) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = dict(self.headers.items())
        operation = headers.get("X-Amz-Target", "").rpartition(".")[2]
        digest = hashlib.sha256(body).hexdigest()
        with state.lock:
            number = len(state.seen) + 1
            fault = state.plan(number, operation, headers)
            if fault is Fault.UNPROCESSED and operation not in _BATCH_OPERATIONS:
                fault = Fault.PASS
            cap = state.max_faults_per_request
            if fault is not Fault.PASS and cap is not None:
                if state.faulted.get(digest, 0) >= cap:
                    fault = Fault.PASS
                else:
                    state.faulted[digest] = state.faulted.get(digest, 0) + 1
            key = _access_key(headers.get("Authorization", ""))
            seen = Seen(number, operation, key, fault)
            state.seen.append(seen)
        try:
            self._perform(state, fault, operation, headers, body, seen)
        except OSError:  # the client went away (after a timeout, say): nothing to answer
            self.close_connection = True

    def _perform(
        self,
        state: _State,
        fault: Fault,
        operation: str,
        headers: dict[str, str],
        body: bytes,
        seen: Seen,
    ) -> None:
        if fault is Fault.DROP_BEFORE:
            self.close_connection = True
            return
        if fault in _ERRORS:
            status, code, message = _ERRORS[fault]
            payload = (
                f'{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"{message}"}}'
            ).encode()
            date = formatdate(time() + 3600 if fault is Fault.SKEWED else time(), usegmt=True)
            self._answer(status, {"Date": date}, payload)
            return
        if fault is Fault.UNPROCESSED:
            status, answer_headers, payload, seen.held = self._forward_part(
                state, operation, headers, body
            )
        else:
            status, answer_headers, payload = self._forward(state.upstream, headers, body)
        if fault is Fault.DROP_AFTER:
            self.close_connection = True
            return
        if fault is Fault.DELAY and state.stopping.wait(state.delay):
            self.close_connection = True  # closing down: nobody waits for this answer
            return
        if fault is Fault.TRICKLE:
            self._trickle(state, status, answer_headers, payload)
            return
        self._answer(status, answer_headers, payload)
        if fault is Fault.CLOSE_IDLE:
            self.close_connection = True

    def _forward_part(
        self, state: _State, operation: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes, int]:
        """Forward the entries ``hold`` keeps, answer the others as unprocessed; also how many
        entries were held back."""
        request: Item = json.loads(body)
        reads = operation == "BatchGetItem"
        kept_items: Item = {}
        held_items: Item = {}
        held_count = 0
        for table, work in request.get("RequestItems", {}).items():
            entries: list[Item] = work["Keys"] if reads else work
            chosen = state.hold(operation, list(entries))
            held = [entry for entry in entries if any(entry == h for h in chosen)]
            kept = [entry for entry in entries if not any(entry == h for h in chosen)]
            held_count += len(held)
            if held:
                held_items[table] = {**work, "Keys": held} if reads else held
            if kept:
                kept_items[table] = {**work, "Keys": kept} if reads else kept
        if kept_items:
            forwarded = {**request, "RequestItems": kept_items}
            status, answer_headers, payload = self._forward(
                state.upstream, headers, json.dumps(forwarded).encode()
            )
            if status != 200:
                return status, answer_headers, payload, 0
            answer: Item = json.loads(payload)
        else:  # everything held back: DynamoDB answers without doing anything
            answer_headers = {"x-amzn-RequestId": uuid.uuid4().hex.upper()}
            answer = {"Responses": {table: [] for table in held_items}} if reads else {}
        field_name = "UnprocessedKeys" if reads else "UnprocessedItems"
        unprocessed: Item = answer.setdefault(field_name, {})
        for table, work in held_items.items():
            if reads:
                unprocessed.setdefault(table, {**work, "Keys": []})["Keys"].extend(work["Keys"])
            else:
                unprocessed.setdefault(table, []).extend(work)
        payload = json.dumps(answer).encode()
        answer_headers = {
            name: value for name, value in answer_headers.items() if name.lower() != "x-amz-crc32"
        }
        answer_headers["x-amz-crc32"] = str(zlib.crc32(payload))
        return 200, answer_headers, payload, held_count

    def _forward(
        self, upstream: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(upstream)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        headers = {
            name: value for name, value in headers.items() if name.lower() != "content-length"
        }
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = {
                name: value
                for name, value in response.getheaders()
                if name.lower() in {"x-amz-crc32", "x-amzn-requestid", "content-type", "date"}
            }
            return response.status, kept, payload
        finally:
            connection.close()

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        headers.setdefault("Content-Type", "application/x-amz-json-1.0")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _trickle(self, state: _State, status: int, headers: dict[str, str], payload: bytes) -> None:
        """The whole answer, a few bytes at a time, over about ``trickle_seconds``."""
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if not any(name.lower() == "content-type" for name in headers):
            head.append("Content-Type: application/x-amz-json-1.0")
        head.append(f"Content-Length: {len(payload)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload
        size = max(1, state.trickle_bytes)
        pieces = [raw[start : start + size] for start in range(0, len(raw), size)]
        pause = state.trickle_seconds / max(1, len(pieces) - 1) if len(pieces) > 1 else 0.0
        self.close_connection = True
        for index, piece in enumerate(pieces):
            if index and state.stopping.wait(pause):
                return  # closing down
            self.wfile.write(piece)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FaultProxy:
    """The proxy, serving on a free 127.0.0.1 port from a thread until ``close``.

    ``hold`` chooses what ``UNPROCESSED`` holds back (default: a third, seeded with ``seed``);
    ``max_faults_per_request`` caps the faults one request body meets (unlimited by default);
    ``delay`` is ``DELAY``'s wait, ``trickle_seconds`` and ``trickle_bytes`` ``TRICKLE``'s pace.
    """

    def __init__(
        self,
        upstream: str,
        plan: Plan,
        *,
        seed: int = 0,
        hold: Hold | None = None,
        max_faults_per_request: int | None = None,
        delay: float = 1.0,
        trickle_seconds: float = 5.0,
        trickle_bytes: int = 4,
    ) -> None:
        host = urlsplit(upstream).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the fault proxy only fronts a loopback server, not {upstream!r}")
        if max(delay, trickle_seconds) > 60:
            raise ValueError("keep the proxy's waits under a minute")
        self._state = _State(
            upstream,
            plan,
            hold if hold is not None else hold_share(seed, 1 / 3),
            max_faults_per_request,
            delay,
            trickle_seconds,
            trickle_bytes,
        )
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        """Where clients send their requests."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def seen(self) -> list[Seen]:
        """Every request so far, in arrival order."""
        with self._state.lock:
            return list(self._state.seen)

    def faults_met(self, operation: str | None = None) -> dict[Fault, int]:
        """How many requests (of ``operation``, or all) met each fault, ``PASS`` included."""
        counts: dict[Fault, int] = {}
        for seen in self.seen:
            if operation is None or seen.operation == operation:
                counts[seen.fault] = counts.get(seen.fault, 0) + 1
        return counts

    def replan(self, plan: Plan, *, hold: Hold | None = None) -> None:
        """Misbehave differently from the next request on (and hold back with ``hold``)."""
        with self._state.lock:
            self._state.plan = plan
            if hold is not None:
                self._state.hold = hold

    @property
    def max_faults_per_request(self) -> int | None:
        """How many faults one request body meets at most (``None``: no limit)."""
        return self._state.max_faults_per_request

    @max_faults_per_request.setter
    def max_faults_per_request(self, cap: int | None) -> None:
        with self._state.lock:
            self._state.max_faults_per_request = cap

    def close(self) -> None:
        """Stop serving, and end every delayed or trickling answer."""
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
