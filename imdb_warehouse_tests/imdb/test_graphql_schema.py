"""The project's GraphQL schema subset against the public dump of IMDb's whole schema, and the
project's queries against the subset."""

import json

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    build_schema,
    get_named_type,
    parse,
    validate,
)

from imdb_warehouse.imdb import graphql as imdb_graphql

DUMP_NAME = "graphql_schema_dump_2025-08.json"
SUBSET = build_schema(imdb_graphql.SCHEMA_PATH.read_text())


def _shape(graphql_type) -> tuple[str, bool, bool]:
    """(named type, is a list, may be null) as the dump records a field or argument."""
    nullable = not isinstance(graphql_type, GraphQLNonNull)
    inner = graphql_type.of_type if not nullable else graphql_type
    return get_named_type(graphql_type).name, isinstance(inner, GraphQLList), nullable


def _dumped(entry: dict) -> tuple[str, bool, bool]:
    return entry["type"], bool(entry["list"]), bool(entry["nullable"])


def _subset_types(subset):
    for name, graphql_type in subset.type_map.items():
        if not name.startswith("__") and name not in ("String", "Int", "Float", "Boolean", "ID"):
            yield name, graphql_type


def subset_differences(dump: dict, subset=SUBSET) -> list[str]:
    """Every way the subset's types, fields, arguments and enum values differ from the dump."""
    problems = []
    for name, graphql_type in _subset_types(subset):
        dumped = dump.get(name)
        if dumped is None:
            problems.append(f"type {name} is not in IMDb's schema")
            continue
        if isinstance(graphql_type, GraphQLEnumType):
            known = {value["name"] for value in dumped.get("enumValues") or []}
            problems += [
                f"enum value {name}.{value} is not in IMDb's schema"
                for value in graphql_type.values
                if value not in known
            ]
            continue
        if not isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            continue
        fields = {f["name"]: f for f in (dumped.get("fields") or dumped.get("inputFields") or [])}
        for field_name, field in graphql_type.fields.items():
            where = f"{name}.{field_name}"
            if field_name not in fields:
                problems.append(f"field {where} is not in IMDb's schema")
                continue
            if _shape(field.type) != _dumped(fields[field_name]):
                problems.append(
                    f"field {where}: subset {_shape(field.type)}, IMDb "
                    f"{_dumped(fields[field_name])}"
                )
            args = {a["name"]: a for a in fields[field_name].get("args") or []}
            for arg_name, arg in getattr(field, "args", {}).items():
                if arg_name not in args:
                    problems.append(f"argument {where}({arg_name}) is not in IMDb's schema")
                elif _shape(arg.type) != _dumped(args[arg_name]):
                    problems.append(
                        f"argument {where}({arg_name}): subset {_shape(arg.type)}, IMDb "
                        f"{_dumped(args[arg_name])}"
                    )
    return problems


@pytest.fixture(scope="module")
def dump(reference) -> dict:
    if not (reference / DUMP_NAME).is_file():
        pytest.fail(f"{DUMP_NAME} is not in {reference} (IMDB_REFERENCE_DIR says where)")
    return json.loads((reference / DUMP_NAME).read_text())


def test_every_field_and_argument_of_the_subset_is_imdbs(dump):
    assert subset_differences(dump) == []


def test_the_check_finds_a_renamed_field_and_a_wrong_type(dump):
    sdl = imdb_graphql.SCHEMA_PATH.read_text()
    drifted = sdl.replace("  titleText: TitleText\n", "  titleTxt: TitleText\n", 1).replace(
        "  voteCount: Int!", "  voteCount: Float!"
    )
    problems = subset_differences(dump, build_schema(drifted))
    assert "field Title.titleTxt is not in IMDb's schema" in problems
    assert any(p.startswith("field RatingsSummary.voteCount: subset ('Float'") for p in problems)


@pytest.mark.parametrize("query", ["LIST_QUERY", "DETAILS_QUERY"])
def test_the_projects_queries_are_valid_against_the_subset(query):
    assert validate(SUBSET, parse(getattr(imdb_graphql, query))) == []


def _input_lists(subset=SUBSET):
    """(where, type) of every list the project can send: arguments and input fields."""
    for name, graphql_type in _subset_types(subset):
        if isinstance(graphql_type, GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                yield f"{name}.{field_name}", field.type
        elif isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                for arg_name, arg in field.args.items():
                    yield f"{name}.{field_name}({arg_name})", arg.type


def test_every_list_the_project_sends_has_non_null_items():
    # The dump does not record the items' nullability: the subset takes the strict reading.
    lists = {}
    for where, graphql_type in _input_lists():
        inner = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
        if isinstance(inner, GraphQLList):
            lists[where] = isinstance(inner.of_type, GraphQLNonNull)
    assert lists["Query.titles(ids)"] and lists["PrincipalCreditsFilter.categories"]
    assert [where for where, strict in lists.items() if not strict] == []


def test_the_dump_records_titles_ids_as_a_non_null_list_and_says_nothing_of_its_items(dump):
    [titles] = [field for field in dump["Query"]["fields"] if field["name"] == "titles"]
    [ids] = titles["args"]
    assert _dumped(ids) == ("ID", True, False)
    assert set(ids) == {"defaultValue", "description", "kind", "list", "name", "nullable", "type"}
    assert str(SUBSET.query_type.fields["titles"].args["ids"].type) == "[ID!]!"


def test_the_details_query_declares_its_ids_the_strict_way():
    assert "query TitleDetails($ids: [ID!]!)" in imdb_graphql.DETAILS_QUERY
    loose = imdb_graphql.DETAILS_QUERY.replace("[ID!]!", "[ID]!")
    [error] = validate(SUBSET, parse(loose))
    assert error.message == (
        "Variable '$ids' of type '[ID]!' used in position expecting type '[ID!]!'."
    )
