"""Lambda entry point of the records HTTP API (API Gateway REST, proxy integration).

Handler string: ``records_api.handler.handler``. Settings are validated when the module is
imported (the cold start), so a misconfigured function fails at once with the reason; the
DynamoDB client is created by the first request that needs it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from records_api.errors import register_error_handlers
from records_api.request_body import as_json_request
from records_api.routes import register_routes
from records_service.content_types import CONTENT_TYPES
from records_service.observability import build_logger, build_metrics, traced
from records_service.repositories import Repositories
from records_service.settings import Settings

logger = build_logger()
metrics = build_metrics()

app = APIGatewayRestResolver(enable_validation=True)
app.configure_openapi(
    title="Records API",
    version="1.0.0",
    description="Pydantic-modelled records in DynamoDB. Errors answer an ErrorBody: "
    "{error, message, detail}.",
)
register_error_handlers(app, logger, metrics)
register_routes(app, CONTENT_TYPES.values(), Repositories(Settings.from_env()), metrics)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Route an API Gateway REST event to its operation and answer it."""
    return app.resolve(as_json_request(event), context)
