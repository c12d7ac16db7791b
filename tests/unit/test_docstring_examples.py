"""The library's docstring examples run as written."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pydantic_dynamo


def _modules_with_examples() -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.walk_packages(pydantic_dynamo.__path__, "pydantic_dynamo.")
        if not info.ispkg
    )
    finder = doctest.DocTestFinder()
    return [
        name
        for name in names
        if any(test.examples for test in finder.find(importlib.import_module(name)))
    ]


MODULES = _modules_with_examples()


def test_the_examples_are_found() -> None:
    assert {"pydantic_dynamo.codec", "pydantic_dynamo.gc_pause"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    results = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0
    assert results.failed == 0
