"""The README's quickstart runs as written, against DynamoDB Local."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from local_stack.dynamodb_local import DynamoDBLocal

README = Path(__file__).resolve().parents[2] / "README.md"


def _quickstart() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's Quickstart has no python block"
    return match.group(1)


def test_the_quickstart_runs_as_written(
    dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    code = compile(_quickstart(), str(README), "exec", dont_inherit=True)
    exec(code, {"__name__": "readme_quickstart"})


def _conditions_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("is one spelling of a `Condition`", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's FilterCommand bullet has no python block"
    return textwrap.dedent(match.group(1))


def test_the_conditions_example_runs_after_the_quickstart(
    dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    namespace = {"__name__": "readme_quickstart"}
    exec(compile(_quickstart(), str(README), "exec", dont_inherit=True), namespace)
    exec(compile(_conditions_example(), str(README), "exec", dont_inherit=True), namespace)


def _worked_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Indexes, conditions, transactions, collections", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's indexes section has no python block"
    return match.group(1)


def test_the_indexes_example_runs_after_the_quickstart(
    dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    namespace = {"__name__": "readme_quickstart"}
    exec(compile(_quickstart(), str(README), "exec", dont_inherit=True), namespace)
    exec(compile(_worked_example(), str(README), "exec", dont_inherit=True), namespace)
