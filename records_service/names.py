"""Names that the CDK app and the handlers must agree on: one definition, imported by both.

The table itself is :data:`TABLE`, the library's standard description: the CDK app, the local
stack, the test fixtures and ``create_table`` all build it from there.

>>> PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, [index.name for index in TABLE.indexes]
('PARTITION_KEY', 'SORT_KEY', '_ttl', ['gsi1'])
"""

from __future__ import annotations

from typing import Final

from pydantic_dynamo.table import STANDARD_TABLE, PhysicalIndex, TableDescription

# Environment variables the functions read (validated at start by ``records_service.settings``).
ENV_TABLE_NAME: Final = "RECORDS_TABLE_NAME"
ENV_EVENT_BUS_NAME: Final = "RECORDS_EVENT_BUS_NAME"
ENV_DYNAMODB_ENDPOINT: Final = "RECORDS_DYNAMODB_ENDPOINT"  # local stack / tests only
ENV_EVENTS_ENDPOINT: Final = "RECORDS_EVENTS_ENDPOINT"  # local stack / tests only
ENV_POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
ENV_POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"

# The table: keys, TTL attribute and physical indexes (0.4.2 users choose their own key names;
# the service fixes these). Add a physical index here, one per deploy (docs/deploy.md).
TABLE: Final[TableDescription] = STANDARD_TABLE


def _ttl_attribute(table: TableDescription) -> str:
    # The service expires records (``expiry``) through TTL: its table must have the attribute.
    if table.ttl_attribute is None:
        raise ValueError("the service's table needs a TTL attribute")
    return table.ttl_attribute


PARTITION_KEY: Final = TABLE.partition_key
SORT_KEY: Final = TABLE.sort_key
TTL_ATTRIBUTE: Final = _ttl_attribute(TABLE)
# The overloaded global index the content types' logical indexes share (content_types.py).
GSI1: Final[PhysicalIndex] = TABLE.index("gsi1")
# The table's stream (the CDK app and the local stack enable it): the stream consumer announces
# every change with the content before and after it, so it needs both images.
TABLE_STREAM_VIEW_TYPE: Final = "NEW_AND_OLD_IMAGES"

# Event contract on the bus.
EVENT_SOURCE: Final = "records.service"
DETAIL_TYPE_SUBMITTED: Final = "RecordsSubmitted"
DETAIL_TYPE_OFFERED: Final = "RecordsOffered"
DETAIL_TYPE_WRITTEN: Final = "RecordsWritten"
DETAIL_TYPE_CHANGED: Final = "RecordsChanged"  # the stream consumer: one change per event

SERVICE_NAME: Final = "records"
METRICS_NAMESPACE: Final = "PydanticDynamo"

# Where each function's code lives (the CDK asset folder), its handler, and the factory that
# builds the handler from settings (the local stack calls it with the asset folder on sys.path).
# Each folder holds one uniquely named package.
API_CODE_DIR: Final = "lambdas/api"
API_HANDLER: Final = "records_api.handler.handler"
API_FACTORY: Final = "records_api.app.build_handler"
BATCH_WRITER_CODE_DIR: Final = "lambdas/batch_writer"
BATCH_WRITER_HANDLER: Final = "batch_writer.handler.handler"
BATCH_WRITER_FACTORY: Final = "batch_writer.app.build_handler"
WRITE_ONCE_CODE_DIR: Final = "lambdas/write_once"
WRITE_ONCE_HANDLER: Final = "write_once_deduper.handler.handler"
WRITE_ONCE_FACTORY: Final = "write_once_deduper.app.build_handler"
STREAM_CONSUMER_CODE_DIR: Final = "lambdas/stream_consumer"
STREAM_CONSUMER_HANDLER: Final = "stream_consumer.handler.handler"
STREAM_CONSUMER_FACTORY: Final = "stream_consumer.app.build_handler"

# CloudWatch metric names (EMF, in METRICS_NAMESPACE), emitted by the handlers; alarms may use them.
METRIC_RECORDS_WRITTEN: Final = "RecordsWritten"
METRIC_INVALID_RECORDS: Final = "InvalidRecords"
METRIC_RECORDS_NOT_WRITTEN: Final = "RecordsNotWritten"
METRIC_DUPLICATES_SKIPPED: Final = "DuplicatesSkipped"
METRIC_RECORDS_ANNOUNCED: Final = "RecordsAnnounced"
METRIC_ANNOUNCEMENTS_DEFERRED: Final = "AnnouncementsDeferred"
METRIC_CHANGES_ANNOUNCED: Final = "ChangesAnnounced"
METRIC_CHANGES_SKIPPED: Final = "ChangesSkipped"  # items of no served content type
METRIC_UNDECODABLE_CHANGES: Final = "UndecodableChanges"  # logged with the key, never announced
METRIC_CHANGES_NOT_ANNOUNCED: Final = "ChangesNotAnnounced"  # PutEvents kept failing: retried
METRIC_CHANGES_WITHOUT_IMAGES: Final = "ChangesWithoutImages"  # too large for one event
