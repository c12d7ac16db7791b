"""Reading Query pages into models with and without the library's garbage-collector pause.

Two pages of 1,000 of the workload's items (``benchmarks/models.py``), as DynamoDB's JSON, are
parsed (``transport.wire.decode_body``) and decoded into ``PartitionedContent`` models
(``BatchResponse.contents``), with :mod:`pydantic_dynamo.gc_pause` on and off, interleaved:

- *one read*: one 2,000-item read after a ``gc.collect()``, median of ``--repeat``;
- *steady*: ``--rounds`` reads in a row, each keeping its result until the next one is made,
  so that the collections a pause defers are paid inside the timing, per read.

Client CPU (``time.process_time``) in milliseconds. No network: the pages are built in memory.

The repository decodes with :class:`pydantic_dynamo.model_codec.ModelCodec`; ``--decoder
generic`` swaps in the generic ``codec.decode_item`` and validation it replaced, to compare the
pause's gain with each.

``python -m benchmarks.gc_pause_bench [--repeat 9] [--rounds 20] [--decoder generic]``
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from benchmarks.harness import print_medians
from benchmarks.models import Example
from benchmarks.stored import repository_core, stored_items
from pydantic_dynamo import codec, gc_pause
from pydantic_dynamo.models import BatchResponse, PartitionedContent
from pydantic_dynamo.operations import RepositoryCore
from pydantic_dynamo.transport.wire import decode_body, encode_body

PAGE = 1000


def _pages(n: int) -> list[bytes]:
    items = stored_items(n)
    return [
        encode_body({"Items": items[i : i + PAGE], "Count": len(items[i : i + PAGE])})
        for i in range(0, n, PAGE)
    ]


def _read(core: RepositoryCore[Example], pages: list[bytes]) -> list[PartitionedContent[Example]]:
    out: list[PartitionedContent[Example]] = []
    for body in pages:
        out.extend(BatchResponse(raw_items=decode_body(body)["Items"], decode=core.decode).contents)
    return out


class _GenericCodec:
    """The generic path, as the repository decoded before the compiled codec: every attribute
    decoded (``codec.decode_item``), the reserved ones dropped, then the model's validation."""

    def __init__(self, core: RepositoryCore[Example]) -> None:
        self._validate = core.item_class.model_validate

    def decode_model(self, raw: dict[str, Any], exclude: frozenset[str]) -> Example:
        data = codec.decode_item(raw)
        return self._validate({k: v for k, v in data.items() if k not in exclude}, by_name=True)


def use_generic_decoder(core: RepositoryCore[Example]) -> None:
    """Make ``core.decode`` read the model with the generic codec (for this run)."""
    core.codec = _GenericCodec(core)  # type: ignore[assignment]


def _one_read_ms(core: RepositoryCore[Example], pages: list[bytes]) -> float:
    gc.collect()
    started = time.process_time()
    _read(core, pages)
    return (time.process_time() - started) * 1000


def _steady_ms(core: RepositoryCore[Example], pages: list[bytes], rounds: int) -> float:
    gc.collect()
    started = time.process_time()
    kept = None
    for _ in range(rounds):
        kept = _read(core, pages)
    elapsed = time.process_time() - started
    del kept
    return elapsed * 1000 / rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--decoder", choices=("generic", "compiled"), default="compiled")
    args = parser.parse_args(argv)
    core, pages = repository_core(), _pages(args.n)
    if args.decoder == "generic":
        use_generic_decoder(core)
    results: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for on in (True, False):
            gc_pause.enabled = on
            label = "paused" if on else "not paused"
            results.setdefault(f"one read, {label}", []).append(_one_read_ms(core, pages))
    for on in (True, False, True, False):
        gc_pause.enabled = on
        label = "paused" if on else "not paused"
        results.setdefault(f"steady, {label}", []).append(_steady_ms(core, pages, args.rounds))
    gc_pause.enabled = True
    title = f"{args.n} items in pages of {PAGE}, {args.decoder} decoder, client CPU per read"
    print_medians(title, "ms", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
