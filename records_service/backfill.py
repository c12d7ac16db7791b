"""Backfill a content type's indexes in the service's table: the library's command, with the
service's repository.

Run it after deploying an index on a content type whose table already holds records (the table
is read from ``RECORDS_TABLE_NAME``, its endpoint from ``RECORDS_DYNAMODB_ENDPOINT`` when set,
as the functions read them); ``make backfill TYPE=actor`` wraps it::

    RECORDS_TABLE_NAME=records python -m records_service.backfill --content-type actor \\
        --segments 8 --checkpoint build/backfill-actor.json

The options are :mod:`pydantic_dynamo.backfill`'s (``--segments``, ``--checkpoint``,
``--rate``, ``--dry-run``...); the exit code is 0 only when every record is right.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from pydantic_dynamo.backfill import BackfillReport, backfill_indexes, options_parser, run_command
from records_service.content_types import CONTENT_TYPES, content_type
from records_service.repositories import Repositories
from records_service.settings import ConfigurationError, Settings

__all__ = ["main", "service_command"]


def service_command(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    job: Callable[..., BackfillReport],
) -> int:
    """A command running ``job`` over the repository of ``--content-type NAME`` in the
    service's table (``records_service.migrate`` is the other one)."""
    parser = options_parser(prog=prog, description=description)
    parser.add_argument("--content-type", required=True, choices=sorted(CONTENT_TYPES))
    options = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        parser.error(str(error))
    repo = Repositories(settings).for_type(content_type(options.content_type))
    return run_command(repo, options, job=job)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m records_service.backfill --content-type NAME [options]``."""
    return service_command(
        argv,
        prog="python -m records_service.backfill",
        description="Write a content type's index values onto the records that predate them.",
        job=backfill_indexes,
    )


if __name__ == "__main__":
    sys.exit(main())
