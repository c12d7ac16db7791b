"""The API's paths, declared once: the routes are built from them and the errors read them.

>>> content_path("actor"), content_path("actor", BATCH)
('/records/actor', '/records/actor/batch')
>>> route_of("/records/actor/batch")
('actor', 'batch')
>>> route_of("/health") is None
True
"""

from __future__ import annotations

from typing import Final

__all__ = ["BATCH", "BATCH_GET", "ITEM", "RECORDS_PREFIX", "content_path", "route_of"]

RECORDS_PREFIX: Final = "/records"
BATCH: Final = "batch"
BATCH_GET: Final = "batch-get"
ITEM: Final = "item"


def content_path(content_type: str, tail: str = "") -> str:
    """The path of a content type's route (``tail`` is ``""``, ``ITEM``, ``BATCH``...)."""
    base = f"{RECORDS_PREFIX}/{content_type}"
    return f"{base}/{tail}" if tail else base


def route_of(path: str) -> tuple[str, str] | None:
    """``(content_type, tail)`` of a path under ``RECORDS_PREFIX``; ``None`` for any other."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != RECORDS_PREFIX.strip("/"):
        return None
    return parts[1], "/".join(parts[2:])
