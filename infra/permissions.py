"""The DynamoDB actions each function may call on the table: the least each handler needs.

Tests compare the synthesized policies with these sets, and docs/deploy.md lists them. Adding an
action here is a security decision: say in the review which handler code calls it.
"""

from __future__ import annotations

from typing import Final

# GetItem/Query/BatchGetItem read; UpdateItem writes one item (PUT through the library's
# save(), PATCH through update(), both with conditions for optimistic locking); PutItem creates
# one (PUT with If-None-Match: *, the library's put(if_absent=True)); DeleteItem deletes one (the
# library's delete_item sends a one-action TransactWriteItems, whose Delete IAM authorises as
# DeleteItem); BatchWriteItem writes in chunks of 25. No Scan (every read is by partition or
# index), no other transactional action.
API_TABLE_ACTIONS: Final = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
)

# On each physical index a content type declares a logical index on (``<table arn>/index/<name>``,
# never ``index/*``): the API's ``GET /records/{type}/by/{index}`` queries it. Index reads are
# queries only, and only the API reads indexes; the writers keep them current through their
# table writes, which IAM authorises on the table alone.
API_INDEX_ACTIONS: Final = ("dynamodb:Query",)

# The batch writer only writes whole items, 25 at a time.
BATCH_WRITER_TABLE_ACTIONS: Final = ("dynamodb:BatchWriteItem",)

# The write-once deduper (lambdas/write_once): BatchGetItem reads what is stored (and the
# pending-announcement markers), PutItem writes a new or changed content under a condition (the
# library's write-once), BatchWriteItem saves markers when an announcement fails, DeleteItem
# clears a marker once its announcement went out (pending.py; a one-action transaction's Delete).
WRITE_ONCE_TABLE_ACTIONS: Final = (
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
)

# What a publishing function (the deduper, the stream consumer) may do on the service's bus, and
# on no other bus.
BUS_PUBLISH_ACTIONS: Final = ("events:PutEvents",)

# The stream consumer (lambdas/stream_consumer) reads the table's stream, on the stream's ARN
# only, and nothing of the table: Lambda's event source mapping polls with these (ListStreams
# included, which Lambda checks when the mapping is created), the function reads no item.
STREAM_READ_ACTIONS: Final = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
