"""Filters and updates render to expressions with placeholders only, checked against the model."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from pydantic_dynamo import (
    FilterCommand,
    InvalidAttributeError,
    ReservedAttributeError,
    UpdateCommand,
)
from pydantic_dynamo.expressions import (
    Placeholders,
    UpdateExpression,
    build_filter,
    build_update,
    version_condition,
)
from pydantic_dynamo.schema import ModelSchema
from tests.unit.expression_models import Actor, Address, Color

RESERVED = frozenset({"_timestamp", "_object_version", "_ttl", "PARTITION_KEY", "SORT_KEY"})
# What an expression may hold besides placeholders: operators, functions, keywords.
_EXPRESSION_WORDS = {
    "AND",
    "OR",
    "BETWEEN",
    "IN",
    "SET",
    "REMOVE",
    "NOT",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "if_not_exists",
    "list_append",
}


@pytest.fixture
def schema() -> ModelSchema:
    return ModelSchema.of(Actor)


@pytest.fixture
def placeholders() -> Placeholders:
    return Placeholders()


def assert_placeholders_only(expression: str, placeholders: Placeholders) -> None:
    """Every word of the expression is a placeholder it defines or an expression keyword."""
    words = re.findall(r"[#:]?[A-Za-z_][A-Za-z0-9_]*", expression)
    for word in words:
        if word.startswith("#"):
            assert word in placeholders.names, word
        elif word.startswith(":"):
            assert word in placeholders.values, word
        else:
            assert word in _EXPRESSION_WORDS, f"{word!r} is not a placeholder in {expression!r}"


def render_filter(schema: ModelSchema, filters: FilterCommand) -> tuple[str, Placeholders]:
    placeholders = Placeholders()
    expression = build_filter(schema, filters, placeholders)
    assert expression is not None
    assert_placeholders_only(expression, placeholders)
    return expression, placeholders


def render_update(
    schema: ModelSchema, command: UpdateCommand
) -> tuple[UpdateExpression, Placeholders]:
    placeholders = Placeholders()
    update = build_update(
        schema, command, placeholders, timestamp="2024-01-01T00:00:00+00:00", reserved=RESERVED
    )
    assert_placeholders_only(update.update, placeholders)
    if update.condition is not None:
        assert_placeholders_only(update.condition, placeholders)
    return update, placeholders


# -- filters -------------------------------------------------------------------------------------


def test_empty_filter_renders_nothing(schema: ModelSchema, placeholders: Placeholders) -> None:
    assert build_filter(schema, FilterCommand(), placeholders) is None
    assert placeholders.add_to({}) == {}


def test_equals_renders_a_comparison(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(equals={"name": "Steve"}))
    assert expression == "#n0 = :v0"
    assert placeholders.names == {"#n0": "name"}
    assert placeholders.values == {":v0": {"S": "Steve"}}


@pytest.mark.parametrize(
    ("field", "operator"),
    [("not_equals", "<>"), ("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")],
)
def test_comparisons_render_their_operator(schema: ModelSchema, field: str, operator: str) -> None:
    filters = FilterCommand.model_validate({field: {"age": 30}})
    expression, placeholders = render_filter(schema, filters)
    assert expression == f"#n0 {operator} :v0"
    assert placeholders.names == {"#n0": "age"}
    assert placeholders.values == {":v0": {"N": "30"}}


def test_exists_requires_the_attribute_present_and_not_null(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(exists={"review"}))
    assert expression == "(attribute_exists(#n0) AND NOT attribute_type(#n0, :v0))"
    assert placeholders.names == {"#n0": "review"}
    assert placeholders.values == {":v0": {"S": "NULL"}}


def test_not_exists_matches_the_attribute_missing_or_null(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(not_exists={"review"}))
    assert expression == "(attribute_not_exists(#n0) OR attribute_type(#n0, :v0))"
    assert placeholders.names == {"#n0": "review"}
    assert placeholders.values == {":v0": {"S": "NULL"}}


def test_exists_and_not_exists_share_one_null_type_value(schema: ModelSchema) -> None:
    filters = FilterCommand(exists={"review", "born"}, not_exists={"address.zip"})
    expression, placeholders = render_filter(schema, filters)
    assert placeholders.values == {":v0": {"S": "NULL"}}
    assert expression.count("attribute_type(") == 3
    assert "attribute_type(#n2.#n3, :v0)" in expression


def test_not_exists_on_a_nested_path_checks_the_path(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(not_exists={"address.zip"}))
    assert expression == "(attribute_not_exists(#n0.#n1) OR attribute_type(#n0.#n1, :v0))"
    assert placeholders.names == {"#n0": "address", "#n1": "zip"}


def test_begins_with_renders_the_function(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(begins_with={"name": "St"}))
    assert expression == "begins_with(#n0, :v0)"
    assert placeholders.values == {":v0": {"S": "St"}}


def test_contains_renders_the_function(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(contains={"tags": "drama"}))
    assert expression == "contains(#n0, :v0)"
    assert placeholders.names == {"#n0": "tags"}
    assert placeholders.values == {":v0": {"S": "drama"}}


def test_between_renders_both_bounds(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(between={"age": (18, 65)}))
    assert expression == "#n0 BETWEEN :v0 AND :v1"
    assert placeholders.values == {":v0": {"N": "18"}, ":v1": {"N": "65"}}


def test_is_in_renders_every_option(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(is_in={"name": ["a", "b", "c"]}))
    assert expression == "#n0 IN (:v0, :v1, :v2)"
    assert list(placeholders.values.values()) == [{"S": "a"}, {"S": "b"}, {"S": "c"}]


def test_conditions_of_every_kind_are_anded(schema: ModelSchema) -> None:
    filters = FilterCommand(
        exists={"review"},
        not_exists={"address.zip"},
        equals={"name": "x"},
        not_equals={"age": 1},
        gt={"rating": 1.5},
        ge={"age": 2},
        lt={"age": 90},
        le={"rating": 9.5},
        begins_with={"name": "x"},
        contains={"tags": "t"},
        between={"age": (1, 2)},
        is_in={"color": [Color.RED]},
    )
    expression, placeholders = render_filter(schema, filters)
    # 12 conditions (11 ANDs), BETWEEN's AND, and exists' "present AND NOT NULL"
    assert expression.count(" AND ") == 13
    assert set(placeholders.names.values()) == {
        "review",
        "address",
        "zip",
        "name",
        "age",
        "rating",
        "tags",
        "color",
    }


def test_a_name_used_twice_shares_one_placeholder(schema: ModelSchema) -> None:
    _, placeholders = render_filter(schema, FilterCommand(gt={"age": 1}, lt={"age": 9}))
    assert placeholders.names == {"#n0": "age"}


def test_reserved_words_are_only_ever_placeholders(schema: ModelSchema) -> None:
    # "name" is a DynamoDB reserved word: it must never appear in the expression itself.
    expression, _ = render_filter(schema, FilterCommand(equals={"name": "x"}))
    assert "name" not in expression


def test_nested_dotted_path_renders_one_placeholder_per_part(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(equals={"address.city": "Oslo"}))
    assert expression == "#n0.#n1 = :v0"
    assert placeholders.names == {"#n0": "address", "#n1": "city"}


def test_dict_field_path_accepts_any_key(schema: ModelSchema) -> None:
    expression, placeholders = render_filter(schema, FilterCommand(ge={"scores.imdb": 7}))
    assert expression == "#n0.#n1 >= :v0"
    assert placeholders.names == {"#n0": "scores", "#n1": "imdb"}
    assert placeholders.values == {":v0": {"N": "7"}}


def test_filter_values_are_stored_as_the_attribute_is_stored(schema: ModelSchema) -> None:
    born = datetime(2000, 1, 1, tzinfo=UTC)
    _, placeholders = render_filter(
        schema, FilterCommand(le={"born": born}, equals={"color": "blue"})
    )
    assert placeholders.values == {
        ":v0": {"S": "blue"},
        ":v1": {"S": "2000-01-01T00:00:00+00:00"},
    }


def test_filter_value_of_the_wrong_type_raises_naming_the_field(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_filter(schema, FilterCommand(equals={"age": "old"}), Placeholders())
    assert caught.value.field == "age"


@pytest.mark.parametrize(
    "filters",
    [
        FilterCommand(equals={"nme": "x"}),
        FilterCommand(not_equals={"nme": "x"}),
        FilterCommand(exists={"nme"}),
        FilterCommand(not_exists={"nme"}),
        FilterCommand(begins_with={"nme": "x"}),
        FilterCommand(contains={"nme": "x"}),
        FilterCommand(between={"nme": (1, 2)}),
        FilterCommand(gt={"nme": 1}),
        FilterCommand(ge={"nme": 1}),
        FilterCommand(lt={"nme": 1}),
        FilterCommand(le={"nme": 1}),
        FilterCommand(is_in={"nme": [1]}),
    ],
    ids=lambda f: next(k for k, v in f.model_dump().items() if v),
)
def test_unknown_attribute_in_a_filter_raises_naming_it(
    schema: ModelSchema, filters: FilterCommand
) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_filter(schema, filters, Placeholders())
    assert caught.value.field == "nme"
    assert "nme" in str(caught.value)


def test_unknown_nested_attribute_raises_naming_the_path(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_filter(schema, FilterCommand(equals={"address.country": "NO"}), Placeholders())
    assert caught.value.field == "address.country"


def test_path_below_a_plain_attribute_raises(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_filter(schema, FilterCommand(equals={"name.first": "x"}), Placeholders())
    assert caught.value.field == "name.first"


def test_is_in_with_no_values_raises(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_filter(schema, FilterCommand(is_in={"name": []}), Placeholders())
    assert caught.value.field == "name"


def test_is_in_takes_up_to_100_values(schema: ModelSchema) -> None:
    options = [str(i) for i in range(100)]
    expression, _ = render_filter(schema, FilterCommand(is_in={"name": options}))
    assert expression.count(":v") == 100


def test_is_in_with_101_values_raises(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_filter(
            schema, FilterCommand(is_in={"name": [str(i) for i in range(101)]}), Placeholders()
        )
    assert caught.value.field == "name"


# -- updates -------------------------------------------------------------------------------------


def test_every_update_bumps_the_version_and_refreshes_the_timestamp(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand())
    assert update.update == ("SET #n0 = if_not_exists(#n0, :v0) + :v1, #n1 = :v2")
    assert placeholders.names == {"#n0": "_object_version", "#n1": "_timestamp"}
    assert placeholders.values == {
        ":v0": {"N": "0"},
        ":v1": {"N": "1"},
        ":v2": {"S": "2024-01-01T00:00:00+00:00"},
    }
    assert update.condition is None


def test_set_renders_an_assignment(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand(set_commands={"review": "Great"}))
    assert update.update.startswith("SET #n0 = :v0, ")
    assert placeholders.names["#n0"] == "review"
    assert placeholders.values[":v0"] == {"S": "Great"}


def test_set_of_a_dict_on_a_nested_model_sets_each_key(schema: ModelSchema) -> None:
    update, placeholders = render_update(
        schema, UpdateCommand(set_commands={"address": {"city": "Oslo", "zip": "0150"}})
    )
    assert update.update.startswith("SET #n0.#n1 = :v0, #n0.#n2 = :v1, ")
    assert placeholders.names == {
        "#n0": "address",
        "#n1": "city",
        "#n2": "zip",
        "#n3": "_object_version",
        "#n4": "_timestamp",
    }


def test_set_of_a_dict_on_a_dict_field_sets_each_key(schema: ModelSchema) -> None:
    update, placeholders = render_update(
        schema, UpdateCommand(set_commands={"scores": {"imdb": 8}})
    )
    assert update.update.startswith("SET #n0.#n1 = :v0, ")
    assert placeholders.names["#n1"] == "imdb"
    assert placeholders.values[":v0"] == {"N": "8"}


def test_set_of_a_dict_field_key_holding_a_dot_names_that_key(schema: ModelSchema) -> None:
    update, placeholders = render_update(
        schema, UpdateCommand(set_commands={"scores": {"v1.2": 8}})
    )
    assert update.update.startswith("SET #n0.#n1 = :v0, ")
    assert placeholders.names["#n1"] == "v1.2"


def test_set_of_a_dotted_path_sets_the_nested_attribute(schema: ModelSchema) -> None:
    update, placeholders = render_update(
        schema, UpdateCommand(set_commands={"address.city": "Oslo"})
    )
    assert update.update.startswith("SET #n0.#n1 = :v0, ")
    assert placeholders.names["#n0"] == "address"
    assert placeholders.names["#n1"] == "city"


def test_set_of_a_whole_nested_model_stores_a_map(schema: ModelSchema) -> None:
    _, placeholders = render_update(
        schema, UpdateCommand(set_commands={"address": Address(city="Oslo")})
    )
    assert placeholders.values[":v0"] == {"M": {"city": {"S": "Oslo"}, "zip": {"NULL": True}}}


def test_set_value_is_validated_against_the_attribute(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_update(
            schema,
            UpdateCommand(set_commands={"age": "old"}),
            Placeholders(),
            timestamp="t",
            reserved=RESERVED,
        )
    assert caught.value.field == "age"


def test_set_value_is_stored_as_the_attribute_is_stored(schema: ModelSchema) -> None:
    _, placeholders = render_update(
        schema, UpdateCommand(set_commands={"born": "2000-01-01T00:00:00Z", "color": "blue"})
    )
    assert placeholders.values[":v0"] == {"S": "2000-01-01T00:00:00+00:00"}
    assert placeholders.values[":v1"] == {"S": "blue"}


def test_increment_adds_to_the_value_or_to_zero(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand(increment_attrs={"age": 2}))
    assert update.update.startswith("SET #n0 = if_not_exists(#n0, :v0) + :v1, ")
    assert placeholders.names["#n0"] == "age"
    assert placeholders.values[":v0"] == {"N": "0"}
    assert placeholders.values[":v1"] == {"N": "2"}


def test_increment_of_a_float_attribute_by_a_float(schema: ModelSchema) -> None:
    _, placeholders = render_update(schema, UpdateCommand(increment_attrs={"rating": 0.5}))
    assert placeholders.values[":v1"] == {"N": "0.5"}


def test_increment_of_a_non_numeric_attribute_raises(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_update(
            schema,
            UpdateCommand(increment_attrs={"name": 1}),
            Placeholders(),
            timestamp="t",
            reserved=RESERVED,
        )
    assert caught.value.field == "name"


def test_append_extends_the_list_or_an_empty_one(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand(append_attrs={"tags": ["a", "b"]}))
    assert update.update.startswith("SET #n0 = list_append(if_not_exists(#n0, :v0), :v1), ")
    assert placeholders.values[":v0"] == {"L": []}
    assert placeholders.values[":v1"] == {"L": [{"S": "a"}, {"S": "b"}]}


def test_append_of_nothing_renders_no_clause(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand(append_attrs={"tags": []}))
    assert "tags" not in placeholders.names.values()
    assert "list_append" not in update.update


def test_append_to_a_non_list_attribute_raises(schema: ModelSchema) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_update(
            schema,
            UpdateCommand(append_attrs={"name": ["x"]}),
            Placeholders(),
            timestamp="t",
            reserved=RESERVED,
        )
    assert caught.value.field == "name"


def test_remove_renders_a_remove_clause(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand(remove_attrs={"review"}))
    assert update.update.endswith(" REMOVE #n0")
    assert placeholders.names["#n0"] == "review"


def test_remove_of_a_nested_optional_attribute(schema: ModelSchema) -> None:
    update, placeholders = render_update(schema, UpdateCommand(remove_attrs={"address.zip"}))
    assert update.update.endswith(" REMOVE #n0.#n1")
    assert placeholders.names["#n1"] == "zip"


@pytest.mark.parametrize("path", ["name", "address", "address.city"])
def test_remove_of_a_required_attribute_raises(schema: ModelSchema, path: str) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_update(
            schema,
            UpdateCommand(remove_attrs={path}),
            Placeholders(),
            timestamp="t",
            reserved=RESERVED,
        )
    assert caught.value.field == path


def test_expiry_sets_the_ttl_in_epoch_seconds(schema: ModelSchema) -> None:
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    _, placeholders = render_update(schema, UpdateCommand(expiry=expiry))
    ttl_placeholder = next(k for k, v in placeholders.names.items() if v == "_ttl")
    assert ttl_placeholder in placeholders.names
    assert {"N": str(int(expiry.timestamp()))} in placeholders.values.values()


def test_set_increment_append_and_remove_combine(schema: ModelSchema) -> None:
    update, _ = render_update(
        schema,
        UpdateCommand(
            set_commands={"review": "ok"},
            increment_attrs={"age": 1},
            append_attrs={"tags": ["x"]},
            remove_attrs={"born"},
        ),
    )
    set_part, remove_part = update.update.split(" REMOVE ")
    assert set_part.startswith("SET ")
    assert set_part.count(" = ") == 5  # review, age, tags, version, timestamp
    assert remove_part.count("#") == 1


@pytest.mark.parametrize(
    "command",
    [
        UpdateCommand(set_commands={"_object_version": 5}),
        UpdateCommand(set_commands={"PARTITION_KEY": "x"}),
        UpdateCommand(remove_attrs={"_ttl"}),
    ],
    ids=["set_version", "set_partition_key", "remove_ttl"],
)
def test_command_targeting_a_reserved_attribute_raises_reserved_error(
    schema: ModelSchema, command: UpdateCommand
) -> None:
    with pytest.raises(ReservedAttributeError):
        build_update(schema, command, Placeholders(), timestamp="t", reserved=RESERVED)


@pytest.mark.parametrize(
    "command",
    [
        UpdateCommand(set_commands={"reviw": "x"}),
        UpdateCommand(increment_attrs={"reviw": 1}),
        UpdateCommand(append_attrs={"reviw": ["x"]}),
        UpdateCommand(remove_attrs={"reviw"}),
        UpdateCommand(set_commands={"address": {"reviw": "x"}}),
    ],
    ids=["set", "increment", "append", "remove", "nested_set"],
)
def test_command_naming_an_unknown_attribute_raises_naming_it(
    schema: ModelSchema, command: UpdateCommand
) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        build_update(schema, command, Placeholders(), timestamp="t", reserved=RESERVED)
    assert caught.value.field.endswith("reviw")


@pytest.mark.parametrize(
    "command",
    [
        UpdateCommand(set_commands={"age": 1}, increment_attrs={"age": 1}),
        UpdateCommand(set_commands={"tags": ["a"]}, append_attrs={"tags": ["b"]}),
        UpdateCommand(set_commands={"review": "x"}, remove_attrs={"review"}),
        UpdateCommand(set_commands={"address": {"zip": "1"}}, remove_attrs={"address.zip"}),
        UpdateCommand(set_commands={"address": {"zip": "1"}, "address.zip": "2"}),
        UpdateCommand(set_commands={"address": Address(city="x"), "address.city": "y"}),
    ],
    ids=[
        "set_and_increment",
        "set_and_append",
        "set_and_remove",
        "nested_set_and_remove",
        "nested_set_twice",
        "parent_and_child",
    ],
)
def test_command_updating_overlapping_paths_raises(
    schema: ModelSchema, command: UpdateCommand
) -> None:
    with pytest.raises(InvalidAttributeError, match="twice"):
        build_update(schema, command, Placeholders(), timestamp="t", reserved=RESERVED)


def test_sibling_nested_paths_do_not_overlap(schema: ModelSchema) -> None:
    update, _ = render_update(
        schema, UpdateCommand(set_commands={"address": {"city": "x"}, "address.zip": "1"})
    )
    assert update.update.startswith("SET #n0.#n1 = :v0, #n0.#n2 = :v1, ")


def test_version_condition_for_a_later_version_is_an_equality(placeholders: Placeholders) -> None:
    condition = version_condition(placeholders, 3)
    assert condition == "#n0 = :v0"
    assert placeholders.names == {"#n0": "_object_version"}
    assert placeholders.values == {":v0": {"N": "3"}}


def test_version_condition_for_version_1_accepts_items_without_a_version(
    placeholders: Placeholders,
) -> None:
    # 0.4.2's items may lack _object_version: such an item is at version 1.
    condition = version_condition(placeholders, 1)
    assert condition == "(#n0 = :v0 OR attribute_not_exists(#n0))"
    assert placeholders.values == {":v0": {"N": "1"}}


def test_update_with_current_version_carries_the_version_condition(schema: ModelSchema) -> None:
    update, placeholders = render_update(
        schema, UpdateCommand(set_commands={"review": "x"}, current_version=4)
    )
    assert update.condition is not None
    name, value = update.condition.split(" = ")
    assert placeholders.names[name] == "_object_version"
    assert placeholders.values[value] == {"N": "4"}


def test_placeholders_are_added_to_a_request_only_when_allocated(
    placeholders: Placeholders,
) -> None:
    placeholders.name("a")
    assert placeholders.add_to({}) == {"ExpressionAttributeNames": {"#n0": "a"}}
