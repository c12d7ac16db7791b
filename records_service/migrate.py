"""Migrate a content type's records to its current schema version in the service's table: the
library's migration backfill (:mod:`pydantic_dynamo.migrate`), with the service's repository.

Run it after deploying a content type whose ``schema_versions`` moved on (the table and endpoint
are read as :mod:`records_service.backfill` reads them); ``make migrate TYPE=actor`` wraps it::

    RECORDS_TABLE_NAME=records python -m records_service.migrate --content-type actor \\
        --segments 8 --checkpoint build/migrate-actor.json [--dry-run]

The options are the backfill's; the exit code is 0 only when every record is at the current
version. A content type that declares no schema versions is refused (nothing to migrate).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic_dynamo.migrate import migrate_items
from records_service.backfill import service_command

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m records_service.migrate --content-type NAME [options]``."""
    return service_command(
        argv,
        prog="python -m records_service.migrate",
        description="Rewrite a content type's records stored at older schema versions.",
        job=migrate_items,
    )


if __name__ == "__main__":
    sys.exit(main())
