"""Lambda entry point of the SQS batch writer (handler ``batch_writer.handler.handler``).

Settings are validated when the module is imported (the cold start); the DynamoDB client is
created by the first batch. The handler is built by ``batch_writer.app.build_handler``, which
tests and the local stack call themselves.
"""

from __future__ import annotations

from batch_writer.app import build_handler
from records_service.settings import Settings

__all__ = ["handler"]

handler = build_handler(Settings.from_env())
