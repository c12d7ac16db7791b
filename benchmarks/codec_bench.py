"""Codec micro-benchmark: one model <-> one wire item (AttributeValue dicts), no network.

Ours:
- encode: ``codec.encode_item(model.model_dump())``
- decode: ``Example.model_validate(codec.decode_item(item))``
- compiled (``model_codec.ModelCodec.of(Example)``): ``encode(model)`` (``model_dump`` and the
  code generated for the model's fields) and ``decode_model(item)``

Baselines (what one writes with boto3's own serializers):
- encode, float-safe: ``json.loads(model.model_dump_json(), parse_float=Decimal)`` then
  ``TypeSerializer`` on each field. TypeSerializer refuses floats, so generic code must turn
  them into Decimals; a JSON round trip with ``parse_float=Decimal`` is the cheapest general way
  measured here (cheaper than ``model_dump(mode="json")`` followed by ``json.dumps``/``loads``).
- encode, float-unsafe: ``model_dump(mode="json")`` then ``TypeSerializer`` directly. Valid
  for this model's data only because it holds no float; shown as the stricter floor.
- decode: ``TypeDeserializer`` on each attribute, then ``Example.model_validate``.

Each is timed with ``timeit`` (CPU time) over the same items (``--items``, default 500), in
``--repeat`` rounds that interleave the conversions; the median per item is reported in
microseconds, and each ratio is the median of the per-round ratios.

``python -m benchmarks.codec_bench [--items 500] [--repeat 15] [--json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from benchmarks.models import Example, make_examples
from pydantic_dynamo import codec
from pydantic_dynamo.model_codec import ModelCodec

Item = dict[str, Any]


@dataclass
class CodecResult:
    name: str
    us_per_item: float
    spread: tuple[float, float]  # min and max per-item time over the repeats


OURS_ENCODE = "encode: ours"
SAFE_ENCODES = (
    "encode: boto3 float-safe (model_dump_json+loads)",
    "encode: boto3 float-safe (model_dump json+dumps+loads)",
)
UNSAFE_ENCODE = "encode: boto3 float-unsafe (model_dump json)"
OURS_DECODE = "decode: ours"
COMPILED_ENCODE = "encode: ours, compiled (ModelCodec)"
COMPILED_DECODE = "decode: ours, compiled (ModelCodec)"
BOTO3_DECODE = "decode: boto3 TypeDeserializer+model_validate"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_compiled = ModelCodec.of(Example)


def ours_encode(model: Example) -> Item:
    return codec.encode_item(model.model_dump())


def ours_decode(item: Item) -> Example:
    return Example.model_validate(codec.decode_item(item))


def boto3_encode_float_safe(model: Example) -> Item:
    data = json.loads(model.model_dump_json(), parse_float=Decimal)
    serialize = _serializer.serialize
    return {name: serialize(value) for name, value in data.items()}


def boto3_encode_dump_json_roundtrip(model: Example) -> Item:
    data = json.loads(json.dumps(model.model_dump(mode="json")), parse_float=Decimal)
    serialize = _serializer.serialize
    return {name: serialize(value) for name, value in data.items()}


def boto3_encode_no_floats(model: Example) -> Item:
    serialize = _serializer.serialize
    return {name: serialize(value) for name, value in model.model_dump(mode="json").items()}


def boto3_decode(item: Item) -> Example:
    deserialize = _deserializer.deserialize
    return Example.model_validate({name: deserialize(value) for name, value in item.items()})


def _loop(func: Callable[[Any], Any], inputs: Sequence[Any]) -> Callable[[], None]:
    def loop() -> None:
        for value in inputs:
            func(value)

    return loop


def _same_models(decoded: Sequence[Example], expected: Sequence[Example]) -> bool:
    return list(decoded) == list(expected)


def run(items: int, repeat: int, seed: int = 0) -> dict[str, Any]:
    models = make_examples(items, seed)
    wire = [ours_encode(m) for m in models]
    boto_wire = [boto3_encode_no_floats(m) for m in models]
    checks = {
        "ours_roundtrip": _same_models([ours_decode(i) for i in wire], models),
        "boto3_roundtrip": _same_models([boto3_decode(i) for i in boto_wire], models),
        "ours_reads_boto3_items": _same_models([ours_decode(i) for i in boto_wire], models),
        "boto3_reads_our_items": _same_models([boto3_decode(i) for i in wire], models),
        "compiled_encode_is_ours": [_compiled.encode(m) for m in models] == wire,
        "compiled_roundtrip": _same_models([_compiled.decode_model(i) for i in wire], models),
    }
    cases: list[tuple[str, Callable[[Any], Any], Sequence[Any]]] = [
        (OURS_ENCODE, ours_encode, models),
        (COMPILED_ENCODE, _compiled.encode, models),
        (SAFE_ENCODES[0], boto3_encode_float_safe, models),
        (SAFE_ENCODES[1], boto3_encode_dump_json_roundtrip, models),
        (UNSAFE_ENCODE, boto3_encode_no_floats, models),
        (OURS_DECODE, ours_decode, wire),
        (COMPILED_DECODE, _compiled.decode_model, wire),
        (BOTO3_DECODE, boto3_decode, wire),
    ]
    loops = {name: _loop(func, inputs) for name, func, inputs in cases}
    for loop in loops.values():
        loop()  # warm caches (type dispatch tables, validators) before timing
    # Rounds interleave the cases, so a burst of machine noise hits all of them alike; each
    # sample is CPU time (time.process_time), which other processes do not inflate.
    samples: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeat):
        for name, loop in loops.items():
            seconds = timeit.Timer(loop, timer=time.process_time).timeit(number=1)
            samples[name].append(seconds / items * 1e6)
    results = [
        CodecResult(name, statistics.median(per_item), (min(per_item), max(per_item)))
        for name, per_item in samples.items()
    ]

    def ratio(ours: str, *baselines: str) -> float:
        # The median over rounds of each round's ratio (the cheapest baseline of that round).
        return statistics.median(
            samples[ours][i] / min(samples[b][i] for b in baselines) for i in range(repeat)
        )

    ratios = {
        "encode_vs_float_safe": ratio(OURS_ENCODE, *SAFE_ENCODES),
        "encode_vs_float_unsafe": ratio(OURS_ENCODE, UNSAFE_ENCODE),
        "decode": ratio(OURS_DECODE, BOTO3_DECODE),
        "compiled_encode_vs_ours": ratio(COMPILED_ENCODE, OURS_ENCODE),
        "compiled_encode_vs_float_safe": ratio(COMPILED_ENCODE, *SAFE_ENCODES),
        "compiled_decode_vs_ours": ratio(COMPILED_DECODE, OURS_DECODE),
        "compiled_decode": ratio(COMPILED_DECODE, BOTO3_DECODE),
    }
    return {
        "items": items,
        "repeat": repeat,
        "results": [asdict(r) for r in results],
        "ratios": ratios,
        "checks": checks,
    }


def format_table(data: dict[str, Any]) -> str:
    lines = ["| conversion | µs per item (median) | min-max |", "|---|---:|---:|"]
    for r in data["results"]:
        low, high = r["spread"]
        lines.append(f"| {r['name']} | {r['us_per_item']:.1f} | {low:.1f}-{high:.1f} |")
    ratios = data["ratios"]
    lines += [
        "",
        f"- encode, ours ÷ float-safe boto3 path: **{ratios['encode_vs_float_safe']:.2f}x**",
        f"- encode, ours ÷ float-unsafe boto3 path: {ratios['encode_vs_float_unsafe']:.2f}x",
        f"- decode, ours ÷ TypeDeserializer + model_validate: **{ratios['decode']:.2f}x**",
        f"- compiled encode ÷ ours: {ratios['compiled_encode_vs_ours']:.2f}x; ÷ float-safe "
        f"boto3 path: {ratios['compiled_encode_vs_float_safe']:.2f}x",
        f"- compiled decode ÷ ours: {ratios['compiled_decode_vs_ours']:.2f}x; ÷ "
        f"TypeDeserializer + model_validate: {ratios['compiled_decode']:.2f}x",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON line instead")
    args = parser.parse_args(argv)
    data = run(args.items, args.repeat, args.seed)
    if args.json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        print(format_table(data))
        print(f"checks: {data['checks']}")


if __name__ == "__main__":
    main()
