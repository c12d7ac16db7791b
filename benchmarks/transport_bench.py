"""The lean transport's steps, each against what it replaced: JSON, signing, one HTTP exchange.

- sign: :class:`pydantic_dynamo.transport.signing.Signer` against botocore's
  ``SigV4Auth.add_auth`` on an ``AWSRequest``, the same GetItem body and headers.
- HTTP: one signed GetItem POSTed to a DynamoDB Local started here, on a kept-alive
  connection, through :class:`~pydantic_dynamo.transport.http.HttpPool` against the standard
  library's ``http.client`` driven directly (what the transport used before) and urllib3's
  ``HTTPConnectionPool`` (what botocore uses). The server's own time is not in the figure:
  it is the client process's CPU time.
- JSON: a 25-item BatchWriteItem body of the workload's items written, and a 100-item
  BatchGetItem answer parsed, by the transport (orjson) against the standard library's ``json``
  (what it used before; still its fallback).

Each is timed in ``--repeat`` rounds of ``--calls`` calls, interleaved; the median per call is
reported in microseconds of client CPU (``time.process_time``).

``python -m benchmarks.transport_bench [--calls 300] [--repeat 9]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from benchmarks.admin import admin_client
from benchmarks.harness import print_medians
from benchmarks.stored import stored_items
from local_stack.dynamodb_local import create_records_table, start_dynamodb_local
from pydantic_dynamo.transport.http import HttpPool
from pydantic_dynamo.transport.signing import Signer
from pydantic_dynamo.transport.wire import bytes_to_base64, decode_body, encode_body

TABLE = "transport-bench"
BODY = (
    b'{"TableName":"' + TABLE.encode() + b'","Key":{"PARTITION_KEY":{"S":"p"},'
    b'"SORT_KEY":{"S":"s"}},"ConsistentRead":false}'
)
CREDENTIALS = Credentials("bench", "bench")


def _headers(host: str) -> dict[str, str]:
    return {
        "Host": host,
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "User-Agent": "transport-bench",
    }


def _per_call_us(function: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        function()
    return (time.process_time() - started) / calls * 1e6


def _signers(url: str, host: str) -> dict[str, Callable[[], object]]:
    signer = Signer("us-east-1")
    frozen = CREDENTIALS.get_frozen_credentials()
    botocore_auth = SigV4Auth(CREDENTIALS, "dynamodb", "us-east-1")

    def ours() -> object:
        return signer.sign(frozen, url, BODY, _headers(host))

    def botocore() -> object:
        request = AWSRequest(method="POST", url=url + "/", data=BODY, headers=_headers(host))
        botocore_auth.add_auth(request)
        return request.headers

    return {"sign: ours (Signer)": ours, "sign: botocore SigV4Auth.add_auth": botocore}


def _exchanges(url: str, host: str) -> dict[str, Callable[[], object]]:
    parts = urlsplit(url)
    headers = Signer("us-east-1").sign(
        CREDENTIALS.get_frozen_credentials(), url, BODY, _headers(host)
    )
    pool = HttpPool(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port)
    urllib3_pool = urllib3.HTTPConnectionPool(parts.hostname or "", parts.port, maxsize=1)

    def ours() -> object:
        return pool.post(headers, BODY).content

    def stdlib() -> object:
        connection.request("POST", "/", BODY, headers)
        response = connection.getresponse()
        return response.read(), dict(response.getheaders())

    def pooled() -> object:
        return urllib3_pool.urlopen("POST", "/", body=BODY, headers=headers).data

    # The signature stays valid for five minutes; the measurement takes seconds.
    for exchange in (ours, stdlib, pooled):
        exchange()
    return {
        "HTTP: ours (HttpPool)": ours,
        "HTTP: http.client": stdlib,
        "HTTP: urllib3 HTTPConnectionPool": pooled,
    }


def _json_cases() -> dict[str, Callable[[], object]]:
    items = stored_items(100)
    request = {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}} for item in items[:25]]}}
    answer = json.dumps({"Responses": {TABLE: items}, "UnprocessedKeys": {}}).encode()
    stdlib = json.JSONEncoder(separators=(",", ":"), default=bytes_to_base64)
    return {
        "JSON: write 25 items, ours (orjson)": lambda: encode_body(request),
        "JSON: write 25 items, json": lambda: stdlib.encode(request).encode("ascii"),
        "JSON: parse 100 items, ours (orjson)": lambda: decode_body(answer),
        "JSON: parse 100 items, json": lambda: json.loads(answer),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with start_dynamodb_local() as server:
        url = server.endpoint_url
        host = urlsplit(url).netloc
        admin = admin_client(url)
        create_records_table(admin, TABLE)
        cases = {**_json_cases(), **_signers(url, host), **_exchanges(url, host)}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, function in cases.items():
                times[name].append(_per_call_us(function, args.calls))
    print_medians(
        f"client CPU per call, median of {args.repeat} rounds of {args.calls} calls",
        "µs per call",
        times,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
