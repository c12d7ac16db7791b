"""The API's paths, declared once: the routes are built from them and the errors read them.

>>> content_path("actor"), content_path("actor", BATCH)
('/records/actor', '/records/actor/batch')
>>> index_path("actor", "by_name")
'/records/actor/by/by_name'
>>> route_of("/records/actor/batch")
('actor', 'batch')
>>> index_of("by/by_name"), index_of("by"), index_of("batch")
('by_name', '', None)
>>> route_of("/health") is None
True
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BATCH",
    "BATCH_GET",
    "INDEX",
    "ITEM",
    "RECORDS_PREFIX",
    "content_path",
    "index_of",
    "index_path",
    "route_of",
]

RECORDS_PREFIX: Final = "/records"
BATCH: Final = "batch"
BATCH_GET: Final = "batch-get"
ITEM: Final = "item"
# ``/records/{content type}/by/{index}``: a query of one of the content type's indexes.
INDEX: Final = "by"


def content_path(content_type: str, tail: str = "") -> str:
    """The path of a content type's route (``tail`` is ``""``, ``ITEM``, ``BATCH``...)."""
    base = f"{RECORDS_PREFIX}/{content_type}"
    return f"{base}/{tail}" if tail else base


def index_path(content_type: str, index: str) -> str:
    """The path of the query of ``content_type``'s index ``index``."""
    return content_path(content_type, f"{INDEX}/{index}")


def route_of(path: str) -> tuple[str, str] | None:
    """``(content_type, tail)`` of a path under ``RECORDS_PREFIX``; ``None`` for any other."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != RECORDS_PREFIX.strip("/"):
        return None
    return parts[1], "/".join(parts[2:])


def index_of(tail: str) -> str | None:
    """The index a route's ``tail`` names (``""`` for ``by`` alone); ``None`` if not a query."""
    parts = tail.split("/")
    if parts[0] != INDEX or len(parts) > 2:
        return None
    return parts[1] if len(parts) == 2 else ""
