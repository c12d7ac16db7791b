"""Cold start: a fresh interpreter's import and first request, median of several processes.

    python -m benchmarks.cold_start [--runs 5]

Each case is a new ``python -c`` process (run once unmeasured first, so the page cache is warm);
the wall time of the whole process is measured, ``python -c pass`` included as the baseline.
The requests go to a DynamoDB Local started here, through ``AWS_ENDPOINT_URL_DYNAMODB``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/cold_start.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks.admin import admin_client
from local_stack.dynamodb_local import create_records_table, start_dynamodb_local

TABLE = "cold-start"
KEY = "{'PARTITION_KEY': {'S': 'p'}, 'SORT_KEY': {'S': 's'}}"
_REPO = (
    "from pydantic import BaseModel\n"
    "from pydantic_dynamo import SyncDynamoRepository\n"
    "{extra}"
    "class M(BaseModel):\n"
    "    id: str\n"
    "repo = SyncDynamoRepository[M](item_class=M, partition_prefix='p', partition_name='n',"
    " content_type='c', table_name='" + TABLE + "', partition_key='PARTITION_KEY',"
    " sort_key='SORT_KEY'{client})\n"
    "repo.get(None, ['x'])\n"
)
CASES = {
    "python -c pass": "pass",
    "import boto3": "import boto3",
    "import pydantic_dynamo": "import pydantic_dynamo",
    "boto3.client + first GetItem": (
        f"import boto3; boto3.client('dynamodb').get_item(TableName='{TABLE}', Key={KEY})"
    ),
    "LeanClient + first GetItem": (
        "from pydantic_dynamo.transport import LeanClient; "
        f"LeanClient().get_item(TableName='{TABLE}', Key={KEY})"
    ),
    "repository, own client (lean): import + first get": _REPO.format(extra="", client=""),
    "repository, boto3 create_client: import + first get": _REPO.format(
        extra="from pydantic_dynamo.boto3_client import create_client\n",
        client=", client=create_client()",
    ),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cold start of imports and first requests.")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with start_dynamodb_local() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL_DYNAMODB=server.endpoint_url,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
        admin = admin_client(server.endpoint_url)
        create_records_table(admin, TABLE)
        print("| case | median ms | runs (ms) |\n|---|---:|---|")
        for name, code in CASES.items():
            command = [sys.executable, "-c", code]
            subprocess.run(command, env=env, check=True)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True)
                times.append((time.perf_counter() - start) * 1e3)
            runs = ", ".join(f"{t:.0f}" for t in sorted(times))
            print(f"| {name} | {statistics.median(times):.0f} | {runs} |", flush=True)


if __name__ == "__main__":
    main()
