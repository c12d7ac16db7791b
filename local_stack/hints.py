"""What the stack prints once it is up: where things are, and commands that work as printed.

The curl lines run top to bottom on a fresh stack: the PATCH expects the version the PUT just
before it stored (``If-Match: 1``) and the DELETE removes that actor again, so the sequence can
be run again. The ``/by/`` lines query the content types' indexes (``records_service.
content_types``): actors by name, and reviews of any actor by creation time.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import quote

from local_stack import config
from local_stack.seed import ACTOR_ID, ACTOR_NAME

NEW_ACTOR_ID = "frances-mcdormand"


def curl_lines(api_url: str) -> list[str]:
    """Curl commands against the API, each valid for a POSIX shell."""
    put_body = (
        f'{{"partition_ids": [], "content_ids": ["{NEW_ACTOR_ID}"], '
        f'"item": {{"id": "{NEW_ACTOR_ID}", "name": "Frances McDormand", "review": null}}}}'
    )
    patch_body = '{"set_commands": {"review": "Unforgettable in Fargo"}}'
    item = f"{api_url}/records/actor/item?content_id={NEW_ACTOR_ID}"
    json_header = "-H 'Content-Type: application/json'"
    return [
        f"curl -s {api_url}/health",
        f"curl -s '{api_url}/records/actor?limit=10'",
        f"curl -s '{api_url}/records/actor/item?content_id={ACTOR_ID}'",
        f"curl -s '{api_url}/records/review?partition_id={ACTOR_ID}&prefix=2023-02'",
        f"curl -s '{api_url}/records/review?partition_id={ACTOR_ID}"
        "&start=2023-01&end=2023-04&order=desc'",
        f"curl -s '{api_url}/records/actor/by/by_name?name={quote(ACTOR_NAME)}'",
        f"curl -s '{api_url}/records/review/by/by_created?prefix=2023-03'",
        f"curl -s '{api_url}/records/review/by/by_created?start=2023-01&end=2023-03&order=desc"
        "&limit=10'",
        f"curl -s -X PUT {api_url}/records/actor {json_header} -d {shlex.quote(put_body)}",
        f"curl -s -X PATCH '{item}' {json_header} -H 'If-Match: 1' -d {shlex.quote(patch_body)}",
        f"curl -s -X DELETE '{item}'",
    ]


def feed_line(aws_url: str, bus_name: str, sample: Path) -> str:
    """The feeder command for the bundled sample file, against this stack's bus."""
    try:
        shown = sample.relative_to(config.REPO_ROOT)
    except ValueError:
        shown = sample
    bus = "" if bus_name == config.BUS_NAME else f" --bus-name {shlex.quote(bus_name)}"
    return (
        f".venv/bin/python -m local_stack.feed {shlex.quote(str(shown))} --content-type actor "
        f"--endpoint-url {aws_url}{bus}"
    )


def banner(
    *,
    api_url: str,
    aws_url: str,
    dynamodb_url: str,
    table_name: str,
    bus_name: str,
    visibility_timeout_seconds: int,
    docs_available: bool,
) -> str:
    """The text printed when the stack is ready."""
    docs = f"{api_url}/docs" + ("" if docs_available else "  (assets missing: run make setup)")
    rows = [
        (f"API (API Gateway, stage '{config.STAGE}')", api_url),
        ("API docs (Swagger UI, offline)", docs),
        ("OpenAPI document", f"{api_url}/openapi.json"),
        ("SQS + EventBridge (moto)", f"{aws_url}  region {config.REGION}"),
        ("DynamoDB", f"{dynamodb_url}  table {table_name}"),
        ("Event bus", bus_name),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [
        "",
        "Local stack ready.",
        *(f"  {label.ljust(width)}{value}" for label, value in rows),
        f"  Failed messages retry after {visibility_timeout_seconds} s (the local visibility "
        "timeout); the DLQs are <queue>-dlq.",
        "",
        "Try:",
        *(f"  {line}" for line in curl_lines(api_url)),
        "",
        "Feed a JSONL file of contents into ingestion (RecordsSubmitted -> batch writer):",
        f"  {feed_line(aws_url, bus_name, config.SAMPLES_DIR / 'actors.jsonl')}",
        "",
        "Every change to the table goes from its stream to the bus as a RecordsChanged event;",
        "the bus log prints each announcement (RecordsChanged, RecordsWritten) as a",
        "'local_stack.bus' line on stderr.",
        "",
        "Point the library (or the AWS CLI) at the local DynamoDB:",
        f"  export AWS_ENDPOINT_URL_DYNAMODB={dynamodb_url} AWS_REGION={config.REGION} "
        f"AWS_ACCESS_KEY_ID={config.ACCESS_KEY_ID} "
        f"AWS_SECRET_ACCESS_KEY={config.SECRET_ACCESS_KEY}",
        "",
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)
