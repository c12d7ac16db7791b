"""Lambda entry point of the write-once deduper (handler ``write_once_deduper.handler.handler``).

Settings are validated when the module is imported (the cold start), the bus included; the
clients are created by the first batch. The handler is built by
``write_once_deduper.app.build_handler``, which tests and the local stack call themselves.
"""

from __future__ import annotations

from records_service.settings import Settings
from write_once_deduper.app import build_handler

__all__ = ["handler"]

handler = build_handler(Settings.from_env(require_event_bus=True))
