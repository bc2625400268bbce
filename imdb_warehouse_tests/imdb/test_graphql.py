"""Reading IMDb's GraphQL answers into rows: errors first, absent means null, drift fails loudly."""

import json

import pytest

from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.fields import IgnoredFilterError, LayoutChangeError


def gql_title(title_id: str = "tt0133093", **changes) -> dict:
    """A `Title` as DETAILS_QUERY asks for it; `...` drops a field, as IMDb omits nothing but
    may send null."""
    base = {
        "id": title_id,
        "titleText": {"text": "The Matrix"},
        "originalTitleText": {"text": "The Matrix"},
        "titleType": {"id": "movie"},
        "releaseYear": {"year": 1999},
        "releaseDate": {"year": 1999, "month": 3, "day": 31},
        "runtime": {"seconds": 8160},
        "certificate": {"rating": "R"},
        "titleGenres": {
            "genres": [{"genre": {"genreId": "Action"}}, {"genre": {"genreId": "Sci-Fi"}}]
        },
        "plot": {"plotText": {"plainText": "A hacker learns the truth."}},
        "ratingsSummary": {"aggregateRating": 8.7, "voteCount": 2_100_000},
        "metacritic": {"metascore": {"score": 73}},
        "countriesOfOrigin": {"countries": [{"id": "US", "text": "United States"}]},
        "spokenLanguages": {"spokenLanguages": [{"id": "en", "text": "English"}]},
        "principalCredits": [
            {
                "category": {"id": "director"},
                "totalCredits": 2,
                "credits": [
                    _credit("nm0905154", "Lana Wachowski"),
                    _credit("nm0905152", "Lilly Wachowski"),
                ],
            },
            {
                "category": {"id": "writer"},
                "totalCredits": 2,
                "credits": [_credit("nm0905152", "Lilly Wachowski")],
            },
            {
                "category": {"id": "cast"},
                "totalCredits": 40,
                "credits": [_credit("nm0000206", "Keanu Reeves")],
            },
        ],
        "productionBudget": {"budget": {"amount": 63000000.0, "currency": "USD"}},
        "worldwideGross": {"total": {"amount": 467841735.0, "currency": "USD"}},
        "lifetimeGross": {"total": {"amount": 172076928.0, "currency": "USD"}},
        "openingWeekendGross": {
            "gross": {"total": {"amount": 27788331.0, "currency": "USD"}},
            "weekendEndDate": "1999-04-04",
        },
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def _credit(person_id: str, name: str) -> dict:
    return {"name": {"id": person_id, "nameText": {"text": name}}}


def gql_list(titles: list[dict], total: int | None = None) -> dict:
    """The `data` of LIST_QUERY's answer."""
    return {
        "advancedTitleSearch": {
            "total": len(titles) if total is None else total,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [{"node": {"title": t}} for t in titles],
        }
    }


def answer(data: dict | None, errors: list | None = None) -> bytes:
    sent: dict = {"data": data}
    if errors is not None:
        sent = {"errors": errors, **sent}
    return json.dumps(sent).encode()


def test_a_list_answer_reads_into_ranking_rows():
    data = graphql.answer_data(answer(gql_list([gql_title(), gql_title("tt10000001")], 640)))
    found = graphql.genre_list(data, "sci-fi")
    assert found.total == 640 and len(found.titles) == 2
    row = graphql.listed_title_row(found.titles[0], 1)
    assert row == {
        "rank": 1,
        "title_id": "tt0133093",
        "title": "The Matrix",
        "original_title": "The Matrix",
        "title_type": "movie",
        "release_year": 1999,
        "release_date": row["release_date"],
        "runtime_minutes": 136,
        "certificate": "R",
        "genres": ["Action", "Sci-Fi"],
        "plot": "A hacker learns the truth.",
        "rating": 8.7,
        "votes": 2_100_000,
        "metascore": 73,
    }
    assert row["release_date"].isoformat() == "1999-03-31"


def test_details_read_credits_money_as_whole_numbers_and_the_us_canada_gross():
    row = graphql.details_row(gql_title(), 0)
    assert row["directors"] == [
        {"id": "nm0905154", "name": "Lana Wachowski"},
        {"id": "nm0905152", "name": "Lilly Wachowski"},
    ]
    assert row["stars"] == [{"id": "nm0000206", "name": "Keanu Reeves"}]
    assert (row["budget_amount"], row["budget_currency"]) == (63_000_000, "USD")
    assert row["gross_worldwide_amount"] == 467_841_735
    assert row["gross_domestic_amount"] == 172_076_928
    assert row["opening_weekend_end_date"].isoformat() == "1999-04-04"
    assert (row["countries"], row["languages"]) == (["United States"], ["English"])


def test_every_optional_field_null_or_absent_gives_nulls_never_zero():
    bare = {"id": "tt0000001", "titleText": {"text": "Bare"}}
    nulls = {key: None for key in gql_title() if key not in ("id", "titleText")}
    for title in (bare, {**bare, **nulls}):
        row = graphql.details_row(title, 0)
        assert {k: v for k, v in row.items() if v not in (None, [])} == {
            "title_id": "tt0000001",
            "title": "Bare",
        }
        assert row["genres"] == [] and row["votes"] is None and row["budget_amount"] is None


def test_unreleased_titles_have_unknown_credits_not_empty_ones():
    unknown = [{"category": {"id": "director"}, "totalCredits": 3, "credits": []}]
    none = [{"category": {"id": "director"}, "totalCredits": 0, "credits": []}]
    assert graphql.details_row(gql_title(principalCredits=unknown), 0)["directors"] is None
    assert graphql.details_row(gql_title(principalCredits=none), 0)["directors"] == []


@pytest.mark.parametrize(
    ("errors", "transient", "text"),
    [
        (
            [{"message": "Rate exceeded", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
            True,
            "Rate exceeded (INTERNAL_SERVER_ERROR)",
        ),
        (
            [{"message": "Too many ids. Maximum: 250", "extensions": {"code": "BAD_USER_INPUT"}}],
            False,
            "Too many ids",
        ),
        (
            [
                {
                    "message": "Cannot query field 'x' on type 'Title'.",
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                }
            ],
            False,
            "Cannot query field",
        ),
        ([{"message": "PersistedQueryNotFound"}], False, "PersistedQueryNotFound"),
        ([{"message": "Downstream service timed out", "path": ["titles", 3]}], True, "at titles.3"),
    ],
)
def test_errors_are_read_before_data_and_classified(errors, transient, text):
    with pytest.raises(graphql.GraphQLAnswerError) as raised:
        graphql.answer_data(answer(gql_list([gql_title()]), errors))  # data present: still errors
    assert raised.value.transient is transient and text in str(raised.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>403 Forbidden</html>", "the answer is not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (answer(None), "data is missing"),
        (answer({"advancedTitleSearch": None}), "advancedTitleSearch is missing"),
        (answer(gql_list([gql_title(titleText={"txt": "x"})])), "titleText.text is missing"),
        (
            answer(gql_list([gql_title(ratingsSummary={"aggregateRating": "8.7"})])),
            "aggregateRating is str",
        ),
        (
            answer(
                gql_list(
                    [gql_title(productionBudget={"budget": {"amount": 1.5, "currency": "USD"}})]
                )
            ),
            "expected a whole number",
        ),
    ],
)
def test_an_answer_of_another_shape_fails_naming_the_path(body, message):
    with pytest.raises(LayoutChangeError, match=message):
        data = graphql.answer_data(body)
        found = graphql.genre_list(data, "sci-fi")
        [graphql.details_row(t, i) for i, t in enumerate(found.titles)]


def test_a_list_whose_titles_lack_the_genre_asked_for_is_a_dropped_filter():
    data = graphql.answer_data(answer(gql_list([gql_title(), gql_title("tt0000002")])))
    graphql.genre_list(data, "action")
    with pytest.raises(IgnoredFilterError, match="dropped the genre filter 'Horror'"):
        graphql.genre_list(data, "horror")


def test_titles_come_in_the_order_asked_with_the_unknown_ones_marked():
    sent = {"titles": [gql_title("tt0000001"), {"id": "tt0000002", "titleText": None}, None]}
    found = graphql.titles(sent, ["tt0000001", "tt0000002", "tt0000003"])
    assert [graphql.is_unavailable(t) for t in found] == [False, True, True]
    with pytest.raises(LayoutChangeError, match="titles holds 3 titles for 2 ids asked"):
        graphql.titles(sent, ["tt0000001", "tt0000002"])
    rows = graphql.answer_rows({"data": sent}, ["tt0000001", "tt0000002", "tt0000003"])
    assert rows[1:] == [
        {"title_id": "tt0000002", "available": False},
        {"title_id": "tt0000003", "available": False},
    ]


def test_ids_are_checked_before_a_batch_is_sent():
    assert graphql.details_variables(["tt0133093", "tt10000001"]) == {
        "ids": ["tt0133093", "tt10000001"]
    }
    for bad in (["tt12"], ["nm0000206"], ["tt0133093 "], [None]):
        with pytest.raises(ValueError, match="is not an IMDb title id"):
            graphql.details_variables(bad)
    with pytest.raises(ValueError, match="a batch holds 1 to 250 ids, not 251"):
        graphql.details_variables([f"tt{i:07d}" for i in range(251)])
    assert [len(b) for b in graphql.batches([f"tt{i:07d}" for i in range(600)])] == [250, 250, 100]


def test_the_list_variables_ask_for_fifty_english_feature_films_of_the_genre():
    assert graphql.list_variables("sci-fi") == {
        "genre": "Sci-Fi",
        "titleType": "movie",
        "language": "en",
        "first": 50,
    }
    with pytest.raises(ValueError, match="unknown genre 'scifi'"):
        graphql.list_variables("scifi")
