"""Lambda entry point of the stream consumer (handler ``stream_consumer.handler.handler``).

Settings are validated when the module is imported (the cold start), the bus included; the
EventBridge client is created by the first batch with a change to announce. The handler is
built by ``stream_consumer.app.build_handler``, which tests and the local stack call themselves.
"""

from __future__ import annotations

from records_service.settings import Settings
from stream_consumer.app import build_handler

__all__ = ["handler"]

handler = build_handler(Settings.from_env(require_event_bus=True))
