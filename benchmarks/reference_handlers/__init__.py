"""Reference handlers for ``benchmarks.service_bench``: the service written as the docs would.

``api`` is the records API for actors the way the Powertools docs write a REST API
(``APIGatewayRestResolver(enable_validation=True)``, a module-level ``boto3.client``,
``TypeSerializer``/``TypeDeserializer``, Pydantic models); ``batch_writer`` is the SQS batch
writer with Powertools' ``BatchProcessor`` and boto3's ``batch_write_item``. Both read and write
the items the service does (``table``). ``worker`` runs one handler, ours or a reference, in a
fresh process and times each invocation.

This package imports nothing on its own: importing a handler module is what a cold start pays.
"""
