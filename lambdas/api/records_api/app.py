"""The records API built from its settings: ``build_app`` and ``build_handler``.

Nothing here reads the environment or builds a client: the deployed entry point
(``records_api.handler``) passes ``Settings.from_env()``, and tests, the local stack and the
benchmarks build handlers of their own from the same factory, over the repositories they give.

>>> from records_service.settings import Settings
>>> app = build_app(Settings(table_name="records"))
>>> answer = app.resolve({"httpMethod": "GET", "path": "/health", "headers": {}}, None)
>>> answer["statusCode"], answer["body"]
(200, '{"status":"ok","content_types":["actor","review","cast-actor","cast-review"]}')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from records_api.errors import register_error_handlers
from records_api.request_body import as_json_request
from records_api.routes import register_routes
from records_service.content_types import CONTENT_TYPES
from records_service.observability import build_logger, build_metrics, traced
from records_service.repositories import Repositories

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from records_service.content_types import ContentType
    from records_service.settings import Settings

__all__ = ["Handler", "build_app", "build_handler"]

Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]


def build_app(
    settings: Settings,
    content_types: Iterable[ContentType[Any]] | None = None,
    *,
    repositories: Repositories | None = None,
    logger: Logger | None = None,
    metrics: Metrics | None = None,
) -> APIGatewayRestResolver:
    """The API's resolver: every route of ``content_types`` (the registry's by default).

    ``repositories`` default to the container's DynamoDB client for ``settings``.
    """
    served = list(CONTENT_TYPES.values() if content_types is None else content_types)
    logger = logger or build_logger()
    metrics = metrics or build_metrics()
    app = APIGatewayRestResolver(enable_validation=True)
    app.configure_openapi(
        title="Records API",
        version="1.0.0",
        description="Pydantic-modelled records in DynamoDB. Errors answer an ErrorBody: "
        "{error, message, detail}.",
    )
    register_error_handlers(
        app,
        logger,
        metrics,
        served=[ct.name for ct in served],
        indexes={ct.name: [index.name for index in ct.indexes] for ct in served},
    )
    register_routes(app, served, repositories or Repositories(settings), metrics)
    return app


def build_handler(
    settings: Settings,
    content_types: Iterable[ContentType[Any]] | None = None,
    *,
    repositories: Repositories | None = None,
) -> Handler:
    """The Lambda handler of the API: logs with the request's correlation id, traced, metered."""
    logger = build_logger()
    metrics = build_metrics()
    app = build_app(
        settings, content_types, repositories=repositories, logger=logger, metrics=metrics
    )

    @logger.inject_lambda_context
    @traced
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Route an API Gateway REST event to its operation and answer it."""
        # API Gateway's request id (Powertools' API_GATEWAY_REST correlation path), read
        # directly: a JMESPath search per request costs more than the lookup.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        try:
            return app.resolve(as_json_request(event), context)
        finally:
            # As Powertools' log_metrics does, but a read, which counts nothing, skips the
            # warning it raises (and filters) on every empty flush.
            if metrics.metric_set:
                metrics.flush_metrics()

    return handler
