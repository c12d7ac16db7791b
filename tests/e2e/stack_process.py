"""Start ``python -m local_stack`` as a subprocess on free ports, and stop it by its PID.

The stack writes its endpoints and resource names to a ready file once it serves; until then
the helper waits, and it fails the test with the reason and the stack's output when the stack
exits or does not get ready in time. Tests never skip for a stack that does not start.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_stack import config

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0
# Above the batching window (1 s) plus a batch's run time, so a message is never received
# twice within one batch, and short enough that three receives take seconds.
TEST_VISIBILITY_TIMEOUT_SECONDS = 2


@dataclass
class RunningStack:
    """A started local stack: its process, its ready-file content and its output files."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    stdout_path: Path
    stderr_path: Path

    @property
    def api_url(self) -> str:
        """The API's base URL."""
        return str(self.info["api_url"])

    @property
    def aws_url(self) -> str:
        """moto's endpoint (SQS, EventBridge, and DynamoDB unless pointed elsewhere)."""
        return str(self.info["aws_url"])

    @property
    def bus_name(self) -> str:
        """The ingestion bus."""
        return str(self.info["bus_name"])

    def queue(self, route_name: str) -> dict[str, str]:
        """URLs and ARNs of a route's queue and DLQ."""
        queue: dict[str, str] = self.info["queues"][route_name]
        return queue

    def output(self, limit: int = 6000) -> str:
        """The tail of the stack's stdout and stderr, for failure messages."""
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            with contextlib.suppress(OSError):
                parts.append(f"--- {path.name} ---\n{path.read_text(errors='replace')[-limit:]}")
        return "\n".join(parts)

    def stop(self) -> int:
        """SIGTERM, wait, SIGKILL if it hangs; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
                pytest.fail(
                    f"the local stack ignored SIGTERM for {STOP_TIMEOUT_SECONDS:g} s\n"
                    + self.output()
                )
        return int(self.process.returncode)


def start_stack(workdir: Path, *extra_args: str) -> RunningStack:
    """Start the stack with free ports and a short visibility timeout; wait until ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "ready.json"
    stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
    command = [
        sys.executable,
        "-m",
        "local_stack",
        "--port",
        "0",
        "--aws-port",
        "0",
        "--visibility-timeout",
        str(TEST_VISIBILITY_TIMEOUT_SECONDS),
        "--ready-file",
        str(ready),
        *extra_args,
    ]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            cwd=config.REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=environment,
        )
    stack = RunningStack(process, {}, stdout_path, stderr_path)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.exists():
        if process.poll() is not None:
            pytest.fail(
                f"the local stack exited with code {process.returncode} before it was ready "
                f"({' '.join(command)})\n{stack.output()}"
            )
        if time.monotonic() > deadline:
            stack.stop()
            pytest.fail(
                f"the local stack was not ready within {START_TIMEOUT_SECONDS:g} s\n"
                + stack.output()
            )
        time.sleep(0.1)
    stack.info = json.loads(ready.read_text())
    return stack
