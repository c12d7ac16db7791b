"""``python -m local_stack.feed FILE.jsonl --content-type actor``: send contents into ingestion.

Each line of FILE (``-`` for stdin) is one PartitionedContent as JSON
(``{"partition_ids": [..], "content_ids": [..], "item": {..}, "expiry": ..}``). Lines are
checked against the content type's model from ``records_service.content_types`` (unless
``--no-validate``), packed into EventBridge events ``{"content_type": .., "contents": [..]}``
with detail type ``RecordsSubmitted`` (the batch writer) or ``RecordsOffered`` (the write-once
deduper), and sent with PutEvents within its limits (``records_service.putevents``, the packer
and sender the write-once deduper announces with). A progress bar
shows on a terminal; the summary names every rejected line with its number and reason.

Targets: ``--target local`` (default) is the local stack's bus at ``--endpoint-url``
(default ``http://127.0.0.1:4566``) with dummy credentials; ``--target bus`` is a deployed bus
(``--bus-name`` or ``$RECORDS_EVENT_BUS_NAME``) with the AWS credentials and region of the
environment.

Exit status: 0 when every content line was accepted, 1 when some were rejected, 2 when the
feed could not run or stopped early (the summary says from which line on nothing was sent).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from local_stack import aws, config
from local_stack.progress import ProgressBar
from records_service import names
from records_service.putevents import (
    MAX_CALL_BYTES,
    MAX_ENTRIES_PER_CALL,
    CallFailedError,
    ContentTooLargeError,
    EntryPacker,
    PackedEntry,
    SendResult,
    calls,
    send,
)

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

DEFAULT_LOCAL_ENDPOINT = f"http://{config.HOST}:{config.DEFAULT_AWS_PORT}"
DEFAULT_CONTENTS_PER_EVENT = 10
SHOWN_REJECTIONS = 20

Validator = Callable[[Any], str | None]


@dataclass(frozen=True)
class Rejection:
    """A line that did not make it onto the bus, and why."""

    line: int
    reason: str
    text: str


@dataclass
class FeedReport:
    """Counts and rejections of one feed."""

    lines_read: int = 0
    blank_lines: int = 0
    accepted_lines: int = 0
    events: int = 0
    calls: int = 0
    retried_entries: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    aborted: str | None = None  # why the feed stopped early
    unsent_from_line: int | None = None  # first line that may not have been sent


class FeedAbortedError(Exception):
    """PutEvents itself failed (no bus, no endpoint, no credentials...): stop."""


def model_validator(content_type: str) -> Validator:
    """A check of one line's JSON against the content type's ``PartitionedContent[Model]``.

    Raises ``LookupError`` naming the served types when ``content_type`` is not one of them.
    """
    from pydantic import ValidationError

    from records_service.content_types import content_type as lookup

    model = lookup(content_type).content_model

    def check(value: Any) -> str | None:
        try:
            model.model_validate(value)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(part) for part in error['loc']) or 'content'}: {error['msg']}"
                for error in exc.errors()[:3]
            ]
            more = exc.error_count() - len(problems)
            return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")
        return None

    return check


def shape_validator(value: Any) -> str | None:
    """The minimal check when the model is not used: an object with the key lists and item."""
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}"
    for key in ("partition_ids", "content_ids"):
        ids = value.get(key)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return f"{key}: expected a list of strings"
    if not isinstance(value.get("item"), dict):
        return "item: expected a JSON object"
    return None


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON: {exc.msg} at column {exc.colno}"


class Feeder:
    """Reads lines, packs them into events and sends them, recording what happened."""

    def __init__(
        self,
        client: EventBridgeClient,
        packer: EntryPacker[int],
        validate: Validator,
        progress: ProgressBar,
        *,
        max_attempts: int = 5,
    ) -> None:
        self._client = client
        self._packer = packer
        self._validate = validate
        self._progress = progress
        self._max_attempts = max_attempts
        self._ready: list[PackedEntry[int]] = []
        self._ready_bytes = 0
        self.report = FeedReport()

    def _reject(self, line: int, reason: str, text: str) -> None:
        self.report.rejections.append(Rejection(line, reason, text))

    def _send(self, entries: list[PackedEntry[int]]) -> None:
        try:
            result = send(self._client, entries, max_attempts=self._max_attempts)
        except CallFailedError as exc:
            # What was accepted before the call failed counts as sent; the rest is not.
            self._count(exc.result)
            self.report.unsent_from_line = min(entry.tags[0] for entry in exc.unsent)
            if isinstance(exc.__cause__, ClientError | BotoCoreError):
                raise FeedAbortedError(str(exc)) from exc
            raise
        self._count(result)

    def _count(self, result: SendResult[int]) -> None:
        self.report.calls += result.calls
        self.report.retried_entries += result.retried_entries
        for packed in result.accepted:
            self.report.events += 1
            self.report.accepted_lines += len(packed.tags)
        for failed in result.failed:
            for line in failed.entry.tags:
                reason = f"PutEvents refused the event: {failed.code} {failed.message}".rstrip()
                self._reject(line, reason, "")

    def _queue(self, entries: list[PackedEntry[int]]) -> None:
        for entry in entries:
            self._ready.append(entry)
            self._ready_bytes += entry.size
        while len(self._ready) >= MAX_ENTRIES_PER_CALL or self._ready_bytes >= MAX_CALL_BYTES:
            first = next(calls(self._ready))
            self._ready = self._ready[len(first) :]
            self._ready_bytes -= sum(entry.size for entry in first)
            self._send(first)

    def add_line(self, number: int, raw: bytes) -> None:
        """Check one line and queue its content for sending."""
        self.report.lines_read += 1
        self._progress.advance()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._reject(number, f"not UTF-8: {exc.reason} at byte {exc.start}", "")
            return
        stripped = text.strip()
        if not stripped:
            self.report.blank_lines += 1
            return
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            self._reject(number, _json_error(exc), stripped)
            return
        problem = shape_validator(value) or self._validate(value)
        if problem is not None:
            self._reject(number, problem, stripped)
            return
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        try:
            self._queue(self._packer.add(number, encoded))
        except ContentTooLargeError as exc:
            self._reject(number, f"too large for one event: {exc}", stripped[:200])

    def finish(self) -> None:
        """Send what is still packed or queued."""
        self._queue(self._packer.flush())
        remaining, self._ready, self._ready_bytes = self._ready, [], 0
        for call in calls(remaining):
            self._send(call)

    def _first_unsent(self) -> int:
        queued = [entry.tags[0] for entry in self._ready] + self._packer.pending_tags()
        return min(queued, default=self.report.lines_read + 1)

    def run(self, lines: Iterable[tuple[int, bytes]]) -> FeedReport:
        """Feed every line; on ``FeedAbortedError`` or Ctrl-C record why and stop."""
        try:
            for number, text in lines:
                self.add_line(number, text)
            self.finish()
        except FeedAbortedError as exc:
            self.report.aborted = str(exc)
        except KeyboardInterrupt:
            self.report.aborted = "interrupted"
            self.report.unsent_from_line = self._first_unsent()
        finally:
            self._progress.close()
        return self.report


def _numbered(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    yield from enumerate(stream, start=1)


def _count_lines(path: Path) -> int | None:
    try:
        with path.open("rb") as binary:
            count = 0
            last = b"\n"
            while chunk := binary.read(1 << 20):
                count += chunk.count(b"\n")
                last = chunk[-1:]
            return count + (0 if last == b"\n" else 1)
    except OSError:
        return None


def summary(report: FeedReport, *, source: str, target: str, shown: int = SHOWN_REJECTIONS) -> str:
    """The human summary printed at the end."""
    lines = [
        f"feed: {source} -> {target}",
        f"  lines read   {report.lines_read}",
        f"  accepted     {report.accepted_lines} contents in {report.events} events "
        f"({report.calls} PutEvents calls"
        + (f", {report.retried_entries} entries retried" if report.retried_entries else "")
        + ")",
        f"  rejected     {len(report.rejections)} lines",
    ]
    if report.blank_lines:
        lines.append(f"  blank lines  {report.blank_lines} (skipped)")
    for rejection in sorted(report.rejections, key=lambda r: r.line)[:shown]:
        lines.append(f"    line {rejection.line}: {rejection.reason}")
    if len(report.rejections) > shown:
        lines.append(
            f"    ... and {len(report.rejections) - shown} more (--rejects FILE lists all)"
        )
    if report.aborted is not None:
        where = (
            f"; nothing from line {report.unsent_from_line} on was sent"
            if report.unsent_from_line is not None
            else ""
        )
        lines.append(f"  STOPPED: {report.aborted}{where}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.feed",
        description="Send a JSONL file of contents (one PartitionedContent per line) to the "
        "ingestion bus as PutEvents, in batches, with a progress bar and a summary.",
    )
    parser.add_argument("file", help="the JSONL file, or - for stdin")
    parser.add_argument("--content-type", required=True, help="e.g. actor or review")
    parser.add_argument(
        "--target",
        choices=["local", "bus"],
        default="local",
        help="local: the local stack (default); bus: a deployed bus with your AWS credentials",
    )
    parser.add_argument(
        "--bus-name", help=f"default: {config.BUS_NAME} (local), ${names.ENV_EVENT_BUS_NAME} (bus)"
    )
    parser.add_argument(
        "--endpoint-url", help=f"EventBridge endpoint (local default {DEFAULT_LOCAL_ENDPOINT})"
    )
    parser.add_argument("--region", help="AWS region for --target bus (default: from env)")
    parser.add_argument(
        "--detail-type",
        choices=[names.DETAIL_TYPE_SUBMITTED, names.DETAIL_TYPE_OFFERED],
        default=names.DETAIL_TYPE_SUBMITTED,
        help="RecordsSubmitted: the batch writer; RecordsOffered: the write-once deduper",
    )
    parser.add_argument(
        "--contents-per-event",
        type=int,
        default=DEFAULT_CONTENTS_PER_EVENT,
        help="contents in one event, i.e. one SQS message (default %(default)s)",
    )
    parser.add_argument(
        "--max-attempts", type=int, default=5, help="tries per failed entry (default %(default)s)"
    )
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="only check each line's shape, not the content type's model",
    )
    parser.add_argument("--rejects", type=Path, help="write every rejected line here as JSONL")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _client(args: argparse.Namespace) -> tuple[EventBridgeClient, str, str]:
    """The EventBridge client, bus name and a description of the target."""
    if args.target == "local":
        endpoint = args.endpoint_url or DEFAULT_LOCAL_ENDPOINT
        bus = args.bus_name or config.BUS_NAME
        return aws.events_client(endpoint), bus, f"bus {bus!r} at {endpoint}"
    bus = args.bus_name or os.environ.get(names.ENV_EVENT_BUS_NAME)
    if not bus:
        raise FeedAbortedError(f"--target bus needs --bus-name or ${names.ENV_EVENT_BUS_NAME}")
    import boto3
    from botocore.config import Config

    try:
        client = boto3.session.Session(region_name=args.region).client(
            "events",
            endpoint_url=args.endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )
    except BotoCoreError as exc:
        raise FeedAbortedError(f"{exc} (set AWS_REGION or pass --region)") from exc
    return client, bus, f"bus {bus!r} in {client.meta.region_name}"


def _write_rejects(path: Path, report: FeedReport) -> None:
    with path.open("w", encoding="utf-8") as out:
        for rejection in sorted(report.rejections, key=lambda r: r.line):
            out.write(
                json.dumps(
                    {"line": rejection.line, "reason": rejection.reason, "text": rejection.text},
                    ensure_ascii=False,
                )
                + "\n"
            )


def main(argv: list[str] | None = None) -> int:
    """Run the feeder; see the module docstring for the exit status."""
    args = _parser().parse_args(argv)
    if args.contents_per_event < 1 or args.max_attempts < 1:
        print("feed: --contents-per-event and --max-attempts must be at least 1", file=sys.stderr)
        return 2
    try:
        validate = (lambda _value: None) if args.no_validate else model_validator(args.content_type)
    except LookupError as exc:
        print(f"feed: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    try:
        client, bus, target = _client(args)
    except FeedAbortedError as exc:
        print(f"feed: {exc}", file=sys.stderr)
        return 2
    reading_stdin = args.file == "-"
    path = Path(args.file)
    if not reading_stdin and not path.is_file():
        print(f"feed: {path}: no such file", file=sys.stderr)
        return 2
    total = None if reading_stdin else _count_lines(path)
    progress = ProgressBar(total, enabled=False if args.no_progress else None)
    packer: EntryPacker[int] = EntryPacker(
        args.content_type, args.detail_type, names.EVENT_SOURCE, bus, args.contents_per_event
    )
    feeder = Feeder(client, packer, validate, progress, max_attempts=args.max_attempts)
    if reading_stdin:
        report = feeder.run(_numbered(sys.stdin.buffer))
    else:
        with path.open("rb") as stream:
            report = feeder.run(_numbered(stream))
    print(summary(report, source=args.file, target=f"{target} ({args.detail_type})"))
    if args.rejects is not None:
        _write_rejects(args.rejects, report)
    if report.aborted is not None:
        return 2
    return 1 if report.rejections else 0


if __name__ == "__main__":
    sys.exit(main())
