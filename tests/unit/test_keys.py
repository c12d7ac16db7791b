"""Key values: 0.4.2's bytes for plain ids, escaping for the rest, and DynamoDB's length limits."""

from __future__ import annotations

import pytest

from pydantic_dynamo import InvalidKeyError
from pydantic_dynamo.keys import MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, KeyCodec, split_ids


@pytest.fixture
def codec() -> KeyCodec:
    return KeyCodec("test", "integration", "example")


def legacy_partition(ids: list[str]) -> str:
    """The partition value pydantic-dynamo 0.4.2 wrote."""
    return "test#integration#" + "#".join(ids)


def legacy_sort(ids: list[str]) -> str:
    """The sort value pydantic-dynamo 0.4.2 wrote."""
    return "example#" + "#".join(ids)


@pytest.mark.parametrize(
    "ids",
    [
        [],
        ["a"],
        ["usa", "ny", "saratoga", "12020"],
        ["2023-01-01T00:00:00+00:00"],
        ["", "x"],
        ["x", ""],
        ["", ""],
        ["ünïcødé", "日本語", "🦆"],
        ["with space", "tab\there", "a/b:c.d"],
    ],
)
def test_ids_without_hash_are_stored_as_0_4_2_wrote_them(codec: KeyCodec, ids: list[str]) -> None:
    assert codec.partition_value(ids) == legacy_partition(ids)
    assert codec.sort_value(ids) == legacy_sort(ids)


@pytest.mark.parametrize(
    "ids",
    [
        [],
        ["a"],
        ["usa", "ny", "saratoga", "12020"],
        ["", "x"],
        ["x", ""],
        ["ünïcødé", "🦆"],
    ],
)
def test_0_4_2_values_of_ids_without_hash_parse_back_to_the_ids(
    codec: KeyCodec, ids: list[str]
) -> None:
    assert codec.parse_partition(legacy_partition(ids)) == ids
    assert codec.parse_sort(legacy_sort(ids)) == ids


def test_hash_in_an_id_is_escaped(codec: KeyCodec) -> None:
    assert codec.sort_value(["a#b", "c"]) == "example#a\\#b#c"


def test_backslash_in_an_id_is_escaped(codec: KeyCodec) -> None:
    assert codec.sort_value(["a\\b", "c"]) == "example#a\\\\b#c"


@pytest.mark.parametrize(
    "ids",
    [
        ["a#b"],
        ["#"],
        ["##", "#"],
        ["a\\b"],
        ["\\"],
        ["a\\"],
        ["\\#"],
        ["#\\"],
        ["\\\\#\\#"],
        ["\\0"],
        ["a#", "", "#b"],
        ["x\\", "y"],
        ["", "#", ""],
    ],
)
def test_ids_with_hash_or_backslash_round_trip(codec: KeyCodec, ids: list[str]) -> None:
    assert codec.parse_partition(codec.partition_value(ids)) == ids
    assert codec.parse_sort(codec.sort_value(ids)) == ids


def test_ids_that_differ_only_in_escapes_get_different_keys(codec: KeyCodec) -> None:
    values = {
        codec.sort_value(ids)
        for ids in (["a#b"], ["a", "b"], ["a\\", "b"], ["a\\#b"], ["a\\\\b"], ["a\\b"])
    }
    assert len(values) == 6


def test_empty_list_is_stored_as_0_4_2_stored_it(codec: KeyCodec) -> None:
    assert codec.partition_value([]) == "test#integration#"
    assert codec.sort_value([]) == "example#"


def test_none_is_the_empty_list(codec: KeyCodec) -> None:
    assert codec.partition_value(None) == codec.partition_value([])
    assert codec.sort_value(None) == codec.sort_value([])


def test_empty_list_parses_back_to_the_empty_list(codec: KeyCodec) -> None:
    assert codec.parse_partition(codec.partition_value([])) == []
    assert codec.parse_sort(codec.sort_value([])) == []


def test_one_empty_id_is_stored_apart_from_the_empty_list(codec: KeyCodec) -> None:
    assert codec.sort_value([""]) != codec.sort_value([])
    assert codec.partition_value([""]) != codec.partition_value([])


def test_one_empty_id_round_trips(codec: KeyCodec) -> None:
    assert codec.parse_partition(codec.partition_value([""])) == [""]
    assert codec.parse_sort(codec.sort_value([""])) == [""]


def test_two_empty_ids_are_stored_as_0_4_2_stored_them_and_round_trip(codec: KeyCodec) -> None:
    assert codec.sort_value(["", ""]) == "example##"
    assert codec.parse_sort("example##") == ["", ""]


def test_empty_lists_of_different_lengths_get_different_keys(codec: KeyCodec) -> None:
    values = {codec.sort_value(ids) for ids in ([], [""], ["", ""], ["", "", ""])}
    assert len(values) == 4


def test_a_string_is_taken_as_one_id(codec: KeyCodec) -> None:
    assert codec.sort_value("abc") == codec.sort_value(["abc"]) == "example#abc"
    assert codec.partition_value("a#b") == codec.partition_value(["a#b"])


def test_prefix_bound_of_plain_ids_is_the_joined_ids(codec: KeyCodec) -> None:
    assert codec.sort_bound(["usa", "ny"]) == "example#usa#ny"


def test_prefix_bound_of_the_empty_list_matches_every_content(codec: KeyCodec) -> None:
    assert codec.sort_bound([]) == "example#"
    assert codec.sort_bound(None) == "example#"


def test_prefix_bound_of_one_empty_id_matches_every_content(codec: KeyCodec) -> None:
    assert codec.sort_bound([""]) == "example#"


def test_prefix_bound_is_escaped_like_stored_values(codec: KeyCodec) -> None:
    stored = codec.sort_value(["a#b", "c\\d"])
    bound = codec.sort_bound(["a#b"])
    assert bound == "example#a\\#b"
    assert stored.startswith(bound)


def test_prefix_bound_of_a_partial_id_is_a_prefix_of_the_stored_value(codec: KeyCodec) -> None:
    assert codec.sort_value(["2023-01-15"]).startswith(codec.sort_bound(["2023-01"]))


@pytest.mark.parametrize(
    ("stored", "ids"),
    [
        ("a\\b", ["a\\b"]),
        ("a\\", ["a\\"]),
        ("\\", ["\\"]),
        ("C:\\dir\\file", ["C:\\dir\\file"]),
        ("x\\y#z", ["x\\y", "z"]),
    ],
)
def test_0_4_2_values_with_a_lone_backslash_keep_it_literal(
    codec: KeyCodec, stored: str, ids: list[str]
) -> None:
    assert codec.parse_sort("example#" + stored) == ids


def test_split_of_an_empty_string_is_the_empty_list() -> None:
    assert split_ids("") == []


def test_parse_of_a_value_of_another_content_type_names_the_key(codec: KeyCodec) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        codec.parse_sort("other#a")
    assert caught.value.key_name == "sort key"


def test_sort_value_at_the_limit_is_accepted(codec: KeyCodec) -> None:
    ids = ["x" * (MAX_SORT_KEY_BYTES - len("example#"))]
    assert len(codec.sort_value(ids).encode()) == MAX_SORT_KEY_BYTES


def test_sort_value_over_the_limit_raises_naming_the_sort_key(codec: KeyCodec) -> None:
    ids = ["x" * (MAX_SORT_KEY_BYTES - len("example#") + 1)]
    with pytest.raises(InvalidKeyError) as caught:
        codec.sort_value(ids)
    assert caught.value.key_name == "sort key"
    assert "1025" in str(caught.value)


def test_sort_value_limit_counts_utf8_bytes_not_characters(codec: KeyCodec) -> None:
    # 600 characters, 1200 bytes.
    with pytest.raises(InvalidKeyError):
        codec.sort_value(["é" * 600])


def test_escapes_count_towards_the_limit(codec: KeyCodec) -> None:
    # 600 '#' escape to 1200 bytes.
    with pytest.raises(InvalidKeyError):
        codec.sort_value(["#" * 600])


def test_sort_bound_over_the_limit_raises(codec: KeyCodec) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        codec.sort_bound(["x" * MAX_SORT_KEY_BYTES])
    assert caught.value.key_name == "sort key"


def test_partition_value_at_the_limit_is_accepted(codec: KeyCodec) -> None:
    ids = ["x" * (MAX_PARTITION_KEY_BYTES - len("test#integration#"))]
    assert len(codec.partition_value(ids).encode()) == MAX_PARTITION_KEY_BYTES


def test_partition_value_over_the_limit_raises_naming_the_partition_key(
    codec: KeyCodec,
) -> None:
    ids = ["x" * (MAX_PARTITION_KEY_BYTES - len("test#integration#") + 1)]
    with pytest.raises(InvalidKeyError) as caught:
        codec.partition_value(ids)
    assert caught.value.key_name == "partition key"


def test_invalid_key_error_is_a_value_error(codec: KeyCodec) -> None:
    with pytest.raises(ValueError, match="partition key"):
        codec.partition_value(["x" * 3000])
