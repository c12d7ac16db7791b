"""The benchmarks' own boto3 client for DynamoDB Local: tables, probes and checks, never timed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["BENCH_KEY", "admin_client"]

# DynamoDB Local takes any credentials; the runners get the same ones from their environment.
BENCH_KEY = "bench"


def admin_client(endpoint_url: str) -> DynamoDBClient:
    """A plain boto3 DynamoDB client for ``endpoint_url`` in us-east-1."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=BENCH_KEY,
        aws_secret_access_key=BENCH_KEY,
    )
