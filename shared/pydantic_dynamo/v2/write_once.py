"""0.4.2's ``pydantic_dynamo.v2.write_once``: the async ``WriteOnceRepository``."""

from pydantic_dynamo.write_once_repository import WriteOnceRepository

__all__ = ["WriteOnceRepository"]
