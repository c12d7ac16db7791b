"""Deployment choices of the CDK app: runtime, sizes, retention, context flags, output names.

Names the handlers share (environment variables, key names, routes, timeouts) live in
``records_service.names`` and ``records_service.topology``; this module holds only what the
infrastructure alone decides. It imports no CDK so that the layer tooling (``layer``) stays
light.
"""

from __future__ import annotations

from typing import Final

# --- Lambda platform -------------------------------------------------------------------------
# Python 3.12 on x86_64: the layer's wheels are built for exactly this pair, and this machine
# (x86_64, with a 3.12 interpreter) can import and run the very artifact that is deployed.
PYTHON_VERSION: Final = "3.12"
ARCHITECTURE: Final = "x86_64"
PIP_PLATFORM: Final = "manylinux2014_x86_64"

# --- Function sizing (see docs/deploy.md, "Memory and timeouts") ---------------------------------
# Lambda gives CPU in proportion to memory; the cold start (boto3 + pydantic + Powertools imports,
# CPU-bound) shrinks with it. 512 MB keeps cold starts short for a price close to 256 MB, as the
# duration shrinks in proportion (the measured cold starts are in docs/deploy.md).
API_MEMORY_MB: Final = 512
BATCH_WRITER_MEMORY_MB: Final = 512
WRITE_ONCE_MEMORY_MB: Final = 512
STREAM_CONSUMER_MEMORY_MB: Final = 512

# --- Logs ------------------------------------------------------------------------------------
LOG_RETENTION_DAYS: Final = 30

# --- API Gateway -----------------------------------------------------------------------------
API_STAGE_NAME: Final = "v1"
# Stage-wide limits: a ceiling on cost and on load on the table if credentials leak or a client
# loops. Raise them (and the account's Lambda concurrency) for real traffic.
API_THROTTLING_RATE_LIMIT: Final = 50  # requests per second, steady
API_THROTTLING_BURST_LIMIT: Final = 100

# --- Queues ----------------------------------------------------------------------------------
DLQ_RETENTION_DAYS: Final = 14  # the SQS maximum: time to look at, fix and redrive

# --- Alarms ----------------------------------------------------------------------------------
ALARM_PERIOD_MINUTES: Final = 5
# The stream consumer's oldest unread change: seconds behind are normal, minutes mean a batch is
# being retried (or the function is too slow for the write rate).
ITERATOR_AGE_ALARM_SECONDS: Final = 600

# --- Stack -----------------------------------------------------------------------------------
STACK_NAME: Final = "RecordsService"

# --- Context flags (`npx cdk deploy -c NAME=true`) ------------------------------------------------
# A throwaway dev stack: the table and log groups are destroyed with the stack and the table has
# no deletion protection. Never set it for a stack whose data matters.
CONTEXT_EPHEMERAL: Final = "ephemeral"
# Create the account/region-wide role API Gateway needs to write access logs (set it on the first
# deploy in an account/region where `aws apigateway get-account` shows no cloudwatchRoleArn).
CONTEXT_API_GATEWAY_ACCOUNT_ROLE: Final = "apiGatewayAccountRole"

# --- Stack outputs ---------------------------------------------------------------------------
# Defined here until records_service.names grows output names (scripts and the README read them).
OUTPUT_API_URL: Final = "ApiUrl"
OUTPUT_TABLE_NAME: Final = "TableName"
OUTPUT_EVENT_BUS_NAME: Final = "EventBusName"
OUTPUT_ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
