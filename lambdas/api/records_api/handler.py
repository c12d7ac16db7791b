"""Lambda entry point of the records HTTP API (API Gateway REST, proxy integration).

Handler string: ``records_api.handler.handler``. Settings are validated when the module is
imported (the cold start), so a misconfigured function fails at once with the reason; the
DynamoDB client is created by the first request that needs it. The handler is built by
``records_api.app.build_handler``, which tests and the local stack call themselves.
"""

from __future__ import annotations

from records_api.app import build_handler
from records_service.settings import Settings

__all__ = ["handler"]

handler = build_handler(Settings.from_env())
