"""Starting and stopping the stack, and pointing its DynamoDB elsewhere."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from local_stack import aws, config
from local_stack.dynamodb_local import DynamoDBLocal
from tests.e2e.conftest import wait_for
from tests.e2e.stack_process import start_stack


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parts.hostname or config.HOST, parts.port or 80)) == 0


@pytest.mark.integration  # the stack starts DynamoDB Local (Java) itself: no fixture says so
def test_dynamodb_local_option_serves_the_api_and_sigterm_stops_everything(
    tmp_path: Path,
) -> None:
    stack = start_stack(tmp_path, "--dynamodb-local")
    try:
        assert stack.info["dynamodb_url"] != stack.aws_url
        actor = requests.get(
            f"{stack.api_url}/records/actor/item",
            params={"content_id": "daniel-day-lewis"},
            timeout=30,
        )
        assert actor.status_code == 200, actor.text
        endpoints = [stack.api_url, stack.aws_url, stack.info["dynamodb_url"]]
        assert all(_port_open(url) for url in endpoints)
    finally:
        started = time.monotonic()
        code = stack.stop()
        stop_seconds = time.monotonic() - started

    assert code == 0, stack.output()
    assert stop_seconds < 10, f"stopping took {stop_seconds:.1f} s"
    assert "local stack: stopped" in stack.stderr_path.read_text()
    assert not any(_port_open(url) for url in endpoints), "a port is still open after SIGTERM"


def test_dynamodb_endpoint_option_sends_api_and_ingestion_writes_there(
    tmp_path: Path, dynamodb_local: DynamoDBLocal
) -> None:
    table = f"records-e2e-{uuid.uuid4().hex[:8]}"
    stack = start_stack(
        tmp_path, "--dynamodb-endpoint", dynamodb_local.endpoint_url, "--table-name", table
    )
    try:
        put = requests.put(
            f"{stack.api_url}/records/actor",
            json={
                "partition_ids": [],
                "content_ids": ["via-api"],
                "item": {"id": "a", "name": "A"},
            },
            timeout=30,
        )
        assert put.status_code == 200, put.text
        aws.events_client(stack.aws_url).put_events(
            Entries=[
                {
                    "Source": "records.service",
                    "DetailType": "RecordsSubmitted",
                    "EventBusName": stack.bus_name,
                    "Detail": json.dumps(
                        {
                            "content_type": "actor",
                            "contents": [
                                {
                                    "partition_ids": [],
                                    "content_ids": ["via-bus"],
                                    "item": {"id": "b", "name": "B"},
                                }
                            ],
                        }
                    ),
                }
            ]
        )
        dynamodb = aws.dynamodb_client(dynamodb_local.endpoint_url)

        def stored_ids() -> set[str] | None:
            items = dynamodb.scan(TableName=table)["Items"]
            ids = {item["id"]["S"] for item in items if "id" in item}
            return ids if {"a", "b"} <= ids else None

        assert wait_for(stored_ids, timeout=30, what="both items in DynamoDB Local") >= {"a", "b"}
    finally:
        code = stack.stop()
    assert code == 0, stack.output()


def test_a_port_in_use_stops_the_start_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind((config.HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "-m", "local_stack", "--port", str(port), "--aws-port", "0"],
            cwd=config.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert f"cannot serve the API on {config.HOST}:{port}" in result.stderr
    assert "--port 0" in result.stderr
