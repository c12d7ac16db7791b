"""Property-based fuzz of the API from its own OpenAPI document (schemathesis), over HTTP.

Schemathesis reads ``/openapi.json`` from the running stack and sends every operation
generated requests, valid and invalid (its examples, coverage and fuzzing phases), with every
check: no 5xx; every answer of the function matches the document (status code, content type,
headers, body schema); every request the document calls valid is accepted and every one it
calls invalid is refused; an undeclared method is a 405 with ``Allow``. Bounded:
``MAX_EXAMPLES`` per operation, a fixed seed, no shrinking, and the run is killed after
``MAX_SECONDS`` (schemathesis' own ``--max-time`` would instead repeat fuzzing until the time
is spent). A failure prints schemathesis' report: each failing check, answer and ``curl``.

Run through schemathesis' CLI: its pytest plugin does not work with pytest 9.2
(``'Function' object has no attribute '_nodeid'``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from local_stack import config
from records_service.content_types import COLLECTIONS, CONTENT_TYPES
from tests.e2e.stack_process import RunningStack

MAX_EXAMPLES = 25
MAX_SECONDS = 100
SEED = 20261126
# Every check; status_code_conformance is replaced by the hooks' function_status_code_documented,
# which leaves out the gateway's own answers (tests/e2e/schemathesis_hooks.py).
CHECKS = "all"
EXCLUDED_CHECKS = "status_code_conformance"
# The statuses a valid request may meet by the state it finds (409, 412).
CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")


def _operation_ids(api_url: str) -> set[str]:
    document = requests.get(f"{api_url}/openapi.json", timeout=30).json()
    return {
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
    }


def test_no_operation_answers_5xx_or_off_its_documented_schema(
    local_stack: RunningStack,
) -> None:
    operations = _operation_ids(local_stack.api_url)
    index_queries = {
        f"query_{ct.name}_{index.name}" for ct in CONTENT_TYPES.values() for index in ct.indexes
    }
    assert index_queries, "the registry declares indexes: their queries are fuzzed too"
    assert index_queries <= operations, sorted(operations)
    counts_and_collections = {f"count_{name.replace('-', '_')}" for name in CONTENT_TYPES} | {
        f"read_{name.replace('-', '_')}" for name in COLLECTIONS
    }
    assert counts_and_collections <= operations, sorted(operations)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG_FILE),
        "run",
        f"{local_stack.api_url}/openapi.json",
        "--checks",
        CHECKS,
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--continue-on-failure",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--no-shrink",
        "--request-timeout",
        "30",
        "--workers",
        "1",
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        # The hooks read the API's own rules (records_api) and the registry.
        "PYTHONPATH": os.pathsep.join(
            [str(config.REPO_ROOT), str(config.REPO_ROOT / "lambdas" / "api")]
        ),
        "NO_COLOR": "1",
    }

    result = subprocess.run(
        command,
        cwd=config.REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS + 60,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    # Every operation of the document, the index queries among them.
    assert re.search(rf"Tested: {len(operations)}\b", output), output[-5000:]
