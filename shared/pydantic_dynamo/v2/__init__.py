"""0.4.2's ``pydantic_dynamo.v2`` import paths, kept so that code written for 0.4.2 still runs."""
