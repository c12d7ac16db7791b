"""``python -m local_stack``: run the whole service on this machine until Ctrl-C or SIGTERM.

This is what ``make dev`` runs. See ``docs/local.md`` and ``--help``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from local_stack import config
from local_stack.hints import banner
from local_stack.stack import LocalStack, StackError, StackOptions
from records_service import topology


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack",
        description=(
            "Run the records service locally: moto (DynamoDB, SQS, EventBridge), the table, "
            "bus, queues and rules of the CDK app, the API on HTTP, the queue handlers driven "
            "like Lambda's SQS event source mapping, and the stream consumer driven by the "
            "table's stream like Lambda's DynamoDB stream event source mapping."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=config.DEFAULT_API_PORT,
        help="API port on 127.0.0.1 (default %(default)s; 0 = a free port)",
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=config.DEFAULT_AWS_PORT,
        help="moto's port on 127.0.0.1 for SQS and EventBridge (default %(default)s; 0 = free)",
    )
    dynamodb = parser.add_mutually_exclusive_group()
    dynamodb.add_argument(
        "--dynamodb-endpoint",
        metavar="URL",
        help="use this DynamoDB endpoint instead of moto's (e.g. a running DynamoDB Local)",
    )
    dynamodb.add_argument(
        "--dynamodb-local",
        action="store_true",
        help="start DynamoDB Local (needs Java and `make setup`) instead of moto's DynamoDB",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=config.DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="queue visibility timeout: how soon a failed message is retried "
        "(default %(default)s; deployed: 6 x the function timeout)",
    )
    parser.add_argument("--table-name", default=config.TABLE_NAME, help="default %(default)s")
    parser.add_argument("--bus-name", default=config.BUS_NAME, help="default %(default)s")
    parser.add_argument(
        "--no-seed", action="store_true", help="do not load the sample actors and reviews"
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        metavar="PATH",
        help="when ready, write the endpoints and resource names there as JSON",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the stack's own log level (handlers log as POWERTOOLS_LOG_LEVEL says)",
    )
    return parser


def _write_ready_file(path: Path, data: dict[str, object]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    os.replace(temporary, path)  # readers never see half a file


def main(argv: list[str] | None = None) -> int:
    """Start the stack, print what to try, wait for Ctrl-C/SIGTERM, stop cleanly."""
    parser = _parser()
    args = parser.parse_args(argv)
    window = max(route.max_batching_window_seconds for route in topology.QUEUE_ROUTES)
    if args.visibility_timeout <= window:
        parser.error(
            f"--visibility-timeout must exceed the batching window ({window} s), or a message "
            "could be received twice into one batch"
        )
    logging.basicConfig(
        level=args.log_level,
        format="local-stack %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: the user wants out now
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    options = StackOptions(
        api_port=args.port,
        aws_port=args.aws_port,
        dynamodb_endpoint=args.dynamodb_endpoint,
        dynamodb_local=args.dynamodb_local,
        visibility_timeout_seconds=args.visibility_timeout,
        seed=not args.no_seed,
        table_name=args.table_name,
        bus_name=args.bus_name,
    )
    stack = LocalStack(options)
    started = time.monotonic()
    try:
        stack.start()
    except StackError as exc:
        print(f"local stack: {exc}", file=sys.stderr)
        return 1
    described = stack.describe()
    print(
        banner(
            api_url=stack.api_url,
            aws_url=stack.aws_url,
            dynamodb_url=stack.dynamodb_url,
            table_name=options.table_name,
            bus_name=options.bus_name,
            visibility_timeout_seconds=options.visibility_timeout_seconds,
            docs_available=stack.docs.available,
        ),
        flush=True,
    )
    logging.getLogger("local_stack").info("ready in %.1f s", time.monotonic() - started)
    if args.ready_file is not None:
        _write_ready_file(args.ready_file, described)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("local stack: stopping", file=sys.stderr, flush=True)
        stack.stop()
    print("local stack: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
