"""0.4.2's ``pydantic_dynamo.v2.repository``: the async ``DynamoRepository``."""

from pydantic_dynamo.async_repository import DynamoRepository

__all__ = ["DynamoRepository"]
