"""``python -m local_stack.feed`` against the running local stack, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from local_stack import config
from records_service import names
from tests.e2e.conftest import ApiClient, wait_for
from tests.e2e.stack_process import RunningStack


def _actor(actor_id: str) -> dict[str, Any]:
    return {
        "partition_ids": [],
        "content_ids": [actor_id],
        "item": {"id": actor_id, "name": f"Fed {actor_id}"},
    }


def _feed(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_stack.feed", *args],
        cwd=config.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_feed_sends_valid_lines_and_reports_each_rejected_line(
    local_stack: RunningStack, api: ApiClient, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:10]
    ids = [f"fed-{run}-{n:02d}" for n in range(30)]
    lines = [json.dumps(_actor(i)) for i in ids]
    lines.insert(4, '{"partition_ids": [], "content_ids": ["x"], ')  # line 5: broken JSON
    lines.insert(9, json.dumps({"partition_ids": [], "content_ids": ["y"], "item": {"id": "y"}}))
    lines.insert(14, "")  # line 15: blank, skipped and counted
    lines.insert(19, json.dumps(_actor("z") | {"item": {"id": "z", "name": "x" * 300_000}}))
    source = tmp_path / "actors.jsonl"
    source.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.jsonl"

    result = _feed(
        str(source),
        "--content-type",
        "actor",
        "--endpoint-url",
        local_stack.aws_url,
        "--bus-name",
        local_stack.bus_name,
        "--contents-per-event",
        "4",
        "--rejects",
        str(rejects),
    )

    assert result.returncode == 1, result.stdout + result.stderr
    summary = result.stdout
    assert "accepted     30 contents in 8 events" in summary, summary
    assert "rejected     3 lines" in summary, summary
    assert "line 5: invalid JSON" in summary
    assert "line 10: item.name: Field required" in summary
    assert "line 20: too large for one event" in summary
    assert "blank lines  1" in summary
    assert [json.loads(line)["line"] for line in rejects.read_text().splitlines()] == [5, 10, 20]

    def all_written() -> bool | None:
        keys = [{"partition_ids": [], "content_ids": [i]} for i in ids]
        response = api.request("POST", "/records/actor/batch-get", json={"keys": keys})
        return True if response.status_code == 200 and not response.json()["missing"] else None

    wait_for(all_written, timeout=60, what="the fed contents in the table")


def test_feed_refuses_an_unknown_content_type(tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(_actor("a")) + "\n")

    result = _feed(str(source), "--content-type", "film")

    assert result.returncode == 2
    assert "unknown content type 'film'" in result.stderr


def test_feed_stops_with_the_reason_when_nothing_listens(tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(_actor("a")) + "\n")

    result = _feed(str(source), "--content-type", "actor", "--endpoint-url", "http://127.0.0.1:9")

    assert result.returncode == 2, result.stdout
    assert "STOPPED" in result.stdout
    assert "nothing from line 1 on was sent" in result.stdout


def test_feed_to_a_deployed_bus_uses_the_environment(
    local_stack: RunningStack, api: ApiClient, tmp_path: Path
) -> None:
    actor_id = f"bus-{uuid.uuid4().hex[:10]}"
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(_actor(actor_id)) + "\n")
    # --target bus reads the bus name, region and credentials from the environment, as against
    # AWS; the endpoint points it at the local stack's moto instead (tests/conftest.py set
    # dummy credentials and the region for this process and its children).
    environment = {**os.environ, names.ENV_EVENT_BUS_NAME: local_stack.bus_name}

    result = _feed(
        str(source),
        "--content-type",
        "actor",
        "--target",
        "bus",
        "--endpoint-url",
        local_stack.aws_url,
        env=environment,
    )
    no_bus = {k: v for k, v in os.environ.items() if k != names.ENV_EVENT_BUS_NAME}
    without_bus = _feed(str(source), "--content-type", "actor", "--target", "bus", env=no_bus)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"bus {local_stack.bus_name!r} in us-east-1" in result.stdout

    def written() -> bool | None:
        response = api.request("GET", "/records/actor/item", params={"content_id": actor_id})
        return True if response.status_code == 200 else None

    wait_for(written, timeout=60, what="the content fed to the bus")
    assert without_bus.returncode == 2
    assert names.ENV_EVENT_BUS_NAME in without_bus.stderr
