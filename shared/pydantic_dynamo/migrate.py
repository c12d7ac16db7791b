"""The migration backfill: rewrite a content type's items stored at older schema versions.

Reads upgrade older items on the fly (:mod:`pydantic_dynamo.schema_versions`), but what is
stored keeps its old shape until it is written: a filter or an index on a migrated field sees
the old shape. Run :func:`migrate_items` (or the command below) after deploying a new version
to rewrite every older item at the current one. It is the index backfill's machinery
(:mod:`pydantic_dynamo.backfill`: parallel scan segments, checkpoint, progress bar, token
bucket, Ctrl-C) with another per-item rewrite, :class:`SchemaMigration`:

- each item below the current version is written whole, migrated, through ``core.encode`` (so
  its index values are computed from the migrated content), by a PutItem that applies only while
  the item holds the schema version, ``_timestamp`` and write token it was read with: a writer's
  newer item is never overwritten (``changed_meanwhile``), and a resend of an applied rewrite is
  recognised by its token;
- items at the current version are ``already_right``; items at a newer version, or whose
  migration raises, are ``undecodable`` (named in the report, never written);
- the report counts the items per stored version, which is what a dry run is for.

Example::

    report = migrate_items(repo, segments=8, checkpoint=Path("actors-v2.json"))
    assert report.ok, report.summary()

The command::

    python -m pydantic_dynamo.migrate --repository myapp.repos:actors \\
        --segments 8 --checkpoint actors-v2.json --rate 500 [--dry-run]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Unpack

from pydantic_dynamo.backfill import BackfillReport, RewriteOptions, command_main, run_rewrite
from pydantic_dynamo.flows import Call
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.rewrites import Rewrite, scan_job
from pydantic_dynamo.schema_versions import SchemaVersions, migration_put
from pydantic_dynamo.sync_repository import SyncDynamoRepository
from pydantic_dynamo.write_tokens import new_token

__all__ = ["SchemaMigration", "main", "migrate_items"]

Item = dict[str, Any]


class SchemaMigration:
    """The migration's rewrite: :func:`~pydantic_dynamo.schema_versions.migration_put` of each
    item below the current version, counted per stored version."""

    name = "migration"
    kinds_title = "items per stored schema version"

    def __init__(self, core: RepositoryCore[Any]) -> None:
        if core.versions is None:
            raise ValueError(
                f"the repository of {core.keys.sort_bound(())!r} declares no schema versions: "
                "nothing to migrate (pass schema_versions=... to the repository)"
            )
        self.core = core
        self.versions: SchemaVersions = core.versions

    def job(self, segments: int) -> dict[str, Any]:
        """The table, the content type, the segments and the version migrated to."""
        return scan_job(self.core, segments, schema_version=self.versions.current)

    def kind(self, raw: Item) -> str | None:
        """The version ``raw`` is stored at."""
        return str(self.versions.stored(raw))

    def rewrite(self, raw: Item) -> Rewrite | None:
        """The conditional PutItem rewriting ``raw`` migrated, ``None`` at the current version."""
        token = new_token()
        request = migration_put(self.core, raw, token)
        return None if request is None else Rewrite(Call("put_item", request), token)


def migrate_items(
    repo: SyncDynamoRepository[Any], **options: Unpack[RewriteOptions]
) -> BackfillReport:
    """Rewrite every item of ``repo``'s content type stored below its current schema version.

    The options are :func:`~pydantic_dynamo.backfill.backfill_indexes`'s; a dry run counts the
    items per stored version (``report.kinds``) and what it would rewrite, and writes nothing.
    Raises ``ValueError`` when the repository declares no schema versions.
    """
    return run_rewrite(repo, SchemaMigration(repo.core), **options)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pydantic_dynamo.migrate --repository module:attribute [options]``."""
    return command_main(
        argv,
        prog="python -m pydantic_dynamo.migrate",
        description="Rewrite a repository's items stored at older schema versions.",
        job=migrate_items,
    )


if __name__ == "__main__":
    sys.exit(main())
