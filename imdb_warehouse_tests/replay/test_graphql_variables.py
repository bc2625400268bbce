"""The replay validates a query's variables the way IMDb's GraphQL server may: over real HTTP, on
the public endpoint and the licensed one, a `[ID]!` list of ids is refused where the schema wants
`[ID!]!`, and the project's own `[ID!]!` is answered."""

import pytest

from imdb_warehouse.imdb import graphql
from imdb_warehouse.replay.licensed import License
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse_tests.helpers import REPLAY_DAY, license_environment, replay_client

LOOSE_QUERY = graphql.DETAILS_QUERY.replace("($ids: [ID!]!)", "($ids: [ID]!)")
REFUSAL = "Variable '$ids' of type '[ID]!' used in position expecting type '[ID!]!'."


@pytest.fixture(params=["public", "licensed"])
def endpoint(request, monkeypatch, replay: ReplayServer) -> str:
    """The replay's GraphQL URL of either endpoint, with the licensed one's credentials set."""
    if request.param == "public":
        return f"{replay.url}/"
    for name, value in license_environment(License()).items():
        monkeypatch.setenv(name, value)
    return f"{replay.url}/v1"


def _ids(catalogue, count: int = 3) -> list[str]:
    listed, _ = catalogue.search("Drama", REPLAY_DAY, limit=count)
    return [movie_day.title_id for movie_day in listed]


def test_a_loosely_typed_id_list_is_refused_as_graphql_validation_would(
    replay, catalogue, endpoint
):
    assert LOOSE_QUERY != graphql.DETAILS_QUERY
    imdb = replay_client(replay, REPLAY_DAY, graphql_url=endpoint)
    variables = graphql.details_variables(_ids(catalogue))
    exchange = imdb.graphql(LOOSE_QUERY, variables, "TitleDetails")
    assert exchange.status == 200  # GraphQL errors come with HTTP 200
    with pytest.raises(graphql.GraphQLAnswerError) as refused:
        graphql.answer_data(exchange.body)
    [error] = refused.value.errors
    assert error["message"] == REFUSAL
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert not refused.value.transient
    assert len(replay.requests) == 1  # a refused query is not tried again


def test_the_projects_strictly_typed_id_list_is_answered(replay, catalogue, endpoint):
    imdb = replay_client(replay, REPLAY_DAY, graphql_url=endpoint)
    ids = _ids(catalogue)
    exchange = imdb.graphql(graphql.DETAILS_QUERY, graphql.details_variables(ids), "TitleDetails")
    assert exchange.status == 200, exchange.body
    titles = graphql.titles(graphql.answer_data(exchange.body), ids)
    assert [title and title["id"] for title in titles] == ids
