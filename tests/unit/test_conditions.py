"""Conditions render to expressions of placeholders only, checked against the model."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydantic_dynamo import Condition, FilterCommand, InvalidAttributeError, attr
from pydantic_dynamo.attribute_paths import AttributePath, raw_attr
from pydantic_dynamo.condition_rendering import render
from pydantic_dynamo.expressions import build_filter
from pydantic_dynamo.placeholders import Placeholders
from pydantic_dynamo.prepared import Prepared, param
from pydantic_dynamo.schema import ModelSchema
from tests.unit.expression_models import Actor

SCHEMA = ModelSchema.of(Actor)


def rendered(condition: Condition) -> tuple[str, dict[str, str], dict[str, Any]]:
    placeholders = Placeholders()
    expression = render(condition, SCHEMA, placeholders)
    return expression, placeholders.names, placeholders.values


# -- each operator -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (attr("age") == 3, "#n0 = :v0"),
        (attr("age") != 3, "#n0 <> :v0"),
        (attr("age") < 3, "#n0 < :v0"),
        (attr("age") <= 3, "#n0 <= :v0"),
        (attr("age") > 3, "#n0 > :v0"),
        (attr("age") >= 3, "#n0 >= :v0"),
        (3 < attr("age"), "#n0 > :v0"),  # noqa: SIM300  (Python reflects it onto the attribute)
    ],
)
def test_comparisons_render_their_operator(condition: Condition, expected: str) -> None:
    assert rendered(condition) == (expected, {"#n0": "age"}, {":v0": {"N": "3"}})


def test_between_renders_both_bounds() -> None:
    assert rendered(attr("age").between(18, 65)) == (
        "#n0 BETWEEN :v0 AND :v1",
        {"#n0": "age"},
        {":v0": {"N": "18"}, ":v1": {"N": "65"}},
    )


def test_is_in_renders_every_option() -> None:
    expression, _, values = rendered(attr("name").is_in("a", "b", "c"))
    assert expression == "#n0 IN (:v0, :v1, :v2)"
    assert list(values.values()) == [{"S": "a"}, {"S": "b"}, {"S": "c"}]


@pytest.mark.parametrize("count", [0, 101])
def test_is_in_takes_1_to_100_values(count: int) -> None:
    with pytest.raises(InvalidAttributeError, match="1 to 100") as caught:
        attr("age").is_in(*range(count))
    assert caught.value.field == "age"


def test_exists_means_present_and_not_null() -> None:
    assert rendered(attr("review").exists()) == (
        "(attribute_exists(#n0) AND NOT attribute_type(#n0, :v0))",
        {"#n0": "review"},
        {":v0": {"S": "NULL"}},
    )


def test_not_exists_means_missing_or_null() -> None:
    assert rendered(attr("review").not_exists())[0] == (
        "(attribute_not_exists(#n0) OR attribute_type(#n0, :v0))"
    )


def test_begins_with_and_contains_render_their_functions() -> None:
    assert rendered(attr("name").begins_with("St"))[0] == "begins_with(#n0, :v0)"
    expression, _, values = rendered(attr("tags").contains("drama"))
    assert (expression, values) == ("contains(#n0, :v0)", {":v0": {"S": "drama"}})


def test_begins_with_takes_a_string() -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        attr("age").begins_with(1)  # type: ignore[arg-type]
    assert caught.value.field == "age"


def test_size_is_an_operand_of_comparisons() -> None:
    assert rendered(attr("tags").size() > 2) == (
        "size(#n0) > :v0",
        {"#n0": "tags"},
        {":v0": {"N": "2"}},
    )
    assert rendered(attr("name").size().between(1, 3))[0] == "size(#n0) BETWEEN :v0 AND :v1"


def test_size_compares_with_whole_numbers_only() -> None:
    with pytest.raises(InvalidAttributeError, match="whole number") as caught:
        render(attr("tags").size() > "2", SCHEMA, Placeholders())
    assert caught.value.field == "tags"


def test_is_type_renders_the_type_as_a_value() -> None:
    assert rendered(attr("review").is_type("NULL")) == (
        "attribute_type(#n0, :v0)",
        {"#n0": "review"},
        {":v0": {"S": "NULL"}},
    )


def test_is_type_refuses_an_unknown_type() -> None:
    with pytest.raises(InvalidAttributeError, match="not a DynamoDB type"):
        attr("review").is_type("STRING")


def test_two_attributes_compare_with_each_other() -> None:
    assert rendered(attr("age") < attr("rating")) == (
        "#n0 < #n1",
        {"#n0": "age", "#n1": "rating"},
        {},
    )


# -- and, or, not --------------------------------------------------------------------------------


def test_and_joins_its_terms_flat() -> None:
    condition = (attr("age") > 1) & (attr("age") < 9) & attr("name").exists()
    assert rendered(condition)[0] == (
        "#n0 > :v0 AND #n0 < :v1 AND (attribute_exists(#n1) AND NOT attribute_type(#n1, :v2))"
    )


def test_or_is_parenthesised_inside_and() -> None:
    condition = (attr("age") > 1) & ((attr("name") == "a") | (attr("name") == "b"))
    assert rendered(condition)[0] == "#n0 > :v0 AND (#n1 = :v1 OR #n1 = :v2)"


def test_and_is_parenthesised_inside_or() -> None:
    condition = ((attr("age") > 1) & (attr("age") < 9)) | (attr("name") == "a")
    assert rendered(condition)[0] == "((#n0 > :v0 AND #n0 < :v1) OR #n1 = :v2)"


def test_not_parenthesises_all_but_a_function() -> None:
    assert rendered(~(attr("age") > 1))[0] == "NOT (#n0 > :v0)"
    assert rendered(~attr("tags").contains("x"))[0] == "NOT contains(#n0, :v0)"
    assert rendered(~((attr("age") > 1) & (attr("age") < 9)))[0] == "NOT (#n0 > :v0 AND #n0 < :v1)"


def test_not_of_not_is_the_condition_itself() -> None:
    condition = attr("age") > 1
    assert ~~condition is condition


def test_a_condition_has_no_truth_value() -> None:
    with pytest.raises(TypeError, match="no truth value"):
        bool(attr("age") == 1)
    with pytest.raises(TypeError):
        _ = (attr("age") == 1) and (attr("age") == 2)


def test_conditions_combine_only_with_conditions() -> None:
    with pytest.raises(TypeError):
        _ = (attr("age") == 1) & True  # type: ignore[operator]


def test_conditions_and_paths_are_immutable() -> None:
    condition = attr("age") == 1
    with pytest.raises(AttributeError):
        condition.operator = "<"
    with pytest.raises(AttributeError):
        attr("age").parts = ("name",)


def test_repr_reads_as_the_condition() -> None:
    condition = (attr("age") >= 18) & ~attr("tags").contains("x") | attr("address.city").is_in(
        "Oslo"
    )
    assert (
        repr(condition) == "((age >= 18 AND NOT contains(tags, 'x')) OR address.city IN ('Oslo'))"
    )


# -- placeholders --------------------------------------------------------------------------------


def test_a_path_used_twice_shares_its_name_placeholders() -> None:
    _, names, _ = rendered((attr("address.city") == "a") | (attr("address.zip") == "b"))
    assert names == {"#n0": "address", "#n1": "city", "#n2": "zip"}


def test_an_equal_value_used_twice_shares_its_placeholder() -> None:
    expression, _, values = rendered((attr("name") == "x") | attr("tags").contains("x"))
    assert expression == "(#n0 = :v0 OR contains(#n1, :v0))"
    assert values == {":v0": {"S": "x"}}


def test_a_dict_key_holding_a_dot_is_one_name() -> None:
    assert rendered(attr("scores")["v1.2"] > 1)[1] == {"#n0": "scores", "#n1": "v1.2"}


# -- checked against the model -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        (attr("nme") == "x", "nme"),
        (attr("address.country").exists(), "address.country"),
        (attr("name.first").begins_with("a"), "name.first"),
        (attr("_ttl") < 1, "_ttl"),
        (attr("agee").size() > 1, "agee"),
        ((attr("age") > 1) & ~(attr("ratin") < attr("age")), "ratin"),
    ],
)
def test_an_unknown_field_is_refused_naming_it(condition: Condition, field: str) -> None:
    with pytest.raises(InvalidAttributeError) as caught:
        render(condition, SCHEMA, Placeholders())
    assert caught.value.field == field


def test_a_value_is_type_checked_against_its_field() -> None:
    with pytest.raises(InvalidAttributeError, match="invalid value") as caught:
        render(attr("age") == "many", SCHEMA, Placeholders())
    assert caught.value.field == "age"
    with pytest.raises(InvalidAttributeError) as caught:
        render(attr("address.city").is_in("Oslo", 3.5), SCHEMA, Placeholders())
    assert caught.value.field == "address.city"


def test_values_are_encoded_as_the_field_is_stored() -> None:
    born = datetime(2001, 2, 3, tzinfo=UTC)
    _, _, values = rendered(
        (attr("born") > born) & (attr("color") == "blue") & (attr("age") == "7")
    )
    assert values == {":v0": {"S": born.isoformat()}, ":v1": {"S": "blue"}, ":v2": {"N": "7"}}


def test_any_key_below_a_dict_field_is_allowed() -> None:
    assert rendered(attr("scores.imdb") >= 7)[2] == {":v0": {"N": "7"}}


def test_the_librarys_own_attributes_are_not_checked_against_the_model() -> None:
    condition = raw_attr("_ttl").exists() & (raw_attr("_object_version") == 2)
    assert render(condition, None, Placeholders()) == "attribute_exists(#n0) AND #n1 = :v0"
    with pytest.raises(InvalidAttributeError):
        render(attr("age") == 1, None, Placeholders())


def test_an_empty_path_is_refused() -> None:
    with pytest.raises(InvalidAttributeError):
        attr("address.")


# -- FilterCommand is one way to write a condition -------------------------------------------------


def test_filter_command_renders_as_its_condition() -> None:
    filters = FilterCommand(
        exists={"review"}, equals={"name": "a"}, between={"age": (1, 2)}, is_in={"color": ["red"]}
    )
    condition = filters.to_condition()
    assert condition is not None
    by_filter = Placeholders()
    by_condition = Placeholders()
    assert build_filter(SCHEMA, filters, by_filter) == render(condition, SCHEMA, by_condition)
    assert (by_filter.names, by_filter.values) == (by_condition.names, by_condition.values)


def test_an_empty_filter_command_is_no_condition() -> None:
    assert FilterCommand().to_condition() is None


# -- random trees --------------------------------------------------------------------------------

_PATHS = ["name", "review", "age", "rating", "tags", "address.city", "address.zip", "scores.x"]
_NUMBERS = st.integers(min_value=-5, max_value=5)
_WORDS = st.sampled_from(["a", "b", "NULL", "x y"])


def _value_for(path: str) -> st.SearchStrategy[Any]:
    if path == "tags":
        return st.lists(_WORDS, max_size=2)
    return _NUMBERS if path in {"age", "rating", "scores.x"} else _WORDS


def _unchecked(path: str) -> AttributePath:
    return AttributePath(tuple(path.split(".")), checked=False)


@st.composite
def _leaf(draw: st.DrawFn, make: Callable[[str], AttributePath]) -> Condition:
    path = draw(st.sampled_from(_PATHS))
    target = make(path)
    value = _value_for(path)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return target.exists()
    if kind == 1:
        return target.not_exists()
    if kind == 2:
        return target.begins_with(draw(_WORDS))
    if kind == 3:
        return target.contains(draw(_WORDS))
    if kind == 4:
        return target.between(draw(value), draw(value))
    if kind == 5:
        return target.is_in(*draw(st.lists(value, min_size=1, max_size=4)))
    if kind == 6:
        return target.size() >= draw(st.integers(0, 3))
    if kind == 7:
        return target.is_type(draw(st.sampled_from(["S", "N", "NULL", "L"])))
    operator = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
    right = draw(value)
    comparisons: dict[str, Condition] = {
        "==": target == right,
        "!=": target != right,
        "<": target < right,
        "<=": target <= right,
        ">": target > right,
        ">=": target >= right,
    }
    return comparisons[operator]


def _trees(make: Callable[[str], AttributePath]) -> st.SearchStrategy[Condition]:
    return st.recursive(
        _leaf(make),
        lambda children: st.one_of(
            st.tuples(children, children).map(lambda pair: pair[0] & pair[1]),
            st.tuples(children, children).map(lambda pair: pair[0] | pair[1]),
            children.map(lambda child: ~child),
        ),
        max_leaves=12,
    )


def _balanced(expression: str) -> bool:
    depth = 0
    for character in expression:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


@given(_trees(attr))
def test_every_placeholder_of_a_rendered_tree_is_defined_and_every_definition_used(
    condition: Condition,
) -> None:
    placeholders = Placeholders()
    expression = render(condition, SCHEMA, placeholders)
    assert set(re.findall(r"#n\d+", expression)) == set(placeholders.names)
    assert set(re.findall(r":v\d+", expression)) == set(placeholders.values)
    assert _balanced(expression)
    # Nothing but placeholders, operators, functions, keywords, commas and parentheses.
    words = set(re.findall(r"[A-Za-z_]+", re.sub(r"#n\d+|:v\d+", "", expression)))
    assert words <= {
        "AND", "OR", "NOT", "BETWEEN", "IN", "attribute_exists", "attribute_not_exists",
        "attribute_type", "begins_with", "contains", "size",
    }  # fmt: skip


@given(_trees(_unchecked))
def test_a_prepared_tree_renders_as_the_tree(raw: Condition) -> None:
    # Prepared conditions are the library's own, over unchecked attributes.
    tree_placeholders, prepared_placeholders = Placeholders(), Placeholders()
    expected = render(raw, None, tree_placeholders)
    assert Prepared(raw).render(prepared_placeholders, {}) == expected
    assert prepared_placeholders.names == tree_placeholders.names
    assert prepared_placeholders.values == tree_placeholders.values


def test_a_prepared_condition_fills_in_its_parameters() -> None:
    ttl = raw_attr("_ttl")
    live = Prepared(ttl.not_exists() | (ttl > param("now", "N")))
    placeholders = Placeholders()
    assert live.render(placeholders, {"now": "5"}) == "(attribute_not_exists(#n0) OR #n0 > :v0)"
    assert placeholders.values == {":v0": {"N": "5"}}
    assert render(live.bind(now="6") & ttl.exists(), None, Placeholders()) == (
        "(attribute_not_exists(#n0) OR #n0 > :v0) AND attribute_exists(#n0)"
    )


def test_a_prepared_condition_names_no_model_field() -> None:
    with pytest.raises(InvalidAttributeError):
        Prepared(attr("age") > 1)
