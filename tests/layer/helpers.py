"""Helpers the layer's tests and the infrastructure's share."""

from __future__ import annotations

import re


def pyc_sources(names_in_zip: list[str]) -> set[str]:
    """The source beside each pyc of the zip, relative to ``python/``."""
    return {
        re.sub(r"__pycache__/(\w+)\.cpython-312\.pyc$", r"\1.py", name).removeprefix("python/")
        for name in names_in_zip
        if name.endswith(".pyc")
    }
