"""The DynamoDB actions each function may call on the table: the least each handler needs.

Tests compare the synthesized policies with these sets, and docs/deploy.md lists them. Adding an
action here is a security decision: say in the review which handler code calls it.
"""

from __future__ import annotations

from typing import Final

# GetItem/Query/BatchGetItem read; PutItem/UpdateItem/DeleteItem write one item (with conditions
# for optimistic locking); BatchWriteItem writes or deletes in chunks of 25. No Scan: every read
# is by partition. No transactions.
API_TABLE_ACTIONS: Final = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
)

# The batch writer only writes whole items, 25 at a time.
BATCH_WRITER_TABLE_ACTIONS: Final = ("dynamodb:BatchWriteItem",)

# >>> PENDING: the WriteOnce design. Today's deduper (lambdas/write_once/write_once_deduper):
# BatchGetItem reads what is stored (and the pending-announcement markers), PutItem writes a new
# or changed content, BatchWriteItem saves markers when an announcement fails, DeleteItem clears
# a marker once the announcement went out (pending.py). TransactWriteItems/ConditionCheckItem
# join if the design turns to conditional transactions. Change this set, and only this set, when
# the design is fixed: tests/infra/test_artifact.py runs both paths and fails on a missing action.
WRITE_ONCE_TABLE_ACTIONS: Final = (
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
)
# <<< PENDING

# What a publishing worker (the deduper) may do on the service's bus, and on no other bus.
BUS_PUBLISH_ACTIONS: Final = ("events:PutEvents",)
