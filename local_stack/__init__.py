"""The local stack: the service's four handlers on one machine, with no AWS account.

``python -m local_stack`` (``make dev``) starts moto (DynamoDB, SQS, EventBridge) on 127.0.0.1,
creates the table (with its stream), bus, queues, dead-letter queues and rules declared in
``records_service.topology``, serves the API handler over HTTP as API Gateway would, drives the
two queue handlers as Lambda's SQS event source mapping would and the stream consumer as its
DynamoDB stream event source mapping would, and prints every announcement on the bus (the bus
log). ``python -m local_stack.feed`` sends a JSONL file of contents into the ingestion path.
``local_stack.dynamodb_local`` runs DynamoDB Local for tests and for ``--dynamodb-local``. See
``docs/local.md``.
"""
