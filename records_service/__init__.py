"""The deployed service's shared pieces: configuration names and the content-type registry.

Shipped in the Lambda layer beside ``pydantic_dynamo``; imported by the handlers and by the CDK
app so that every name is defined once.
"""
