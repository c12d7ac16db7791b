"""0.4.2's ``pydantic_dynamo.v2.models``: the response types."""

from pydantic_dynamo.models import BatchResponse, GetResponse

__all__ = ["BatchResponse", "GetResponse"]
