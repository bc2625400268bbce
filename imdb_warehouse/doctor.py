"""`imdb-warehouse doctor`: the project's own requests to each configured IMDb source (GraphQL:
its two queries, a genre's list of one and that title's details; HTML: a search page), and a
line for each: answers, schema-changed, challenged, refused, unauthorized, unreachable or
failing, with what to do."""

import re
from dataclasses import dataclass

from imdb_warehouse import settings
from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.fields import IgnoredFilterError, LayoutChangeError
from imdb_warehouse.imdb.parse import parse_search_page
from imdb_warehouse.resources.imdb_client import Exchange, ImdbClient, ImdbError

PROBE_GENRE = "drama"
SCHEMA_ADVICE = 'see docs/imdb.md, "When IMDb changes its schema"'
ANY_STATUS = tuple(range(100, 600))


@dataclass(frozen=True)
class Finding:
    source: str
    where: str
    outcome: str  # answers, challenged, refused, unauthorized, unreachable, failing
    detail: str
    chosen: bool  # the source IMDB_SOURCE selects

    @property
    def ok(self) -> bool:
        return self.outcome == "answers"

    def line(self) -> str:
        chosen = f", chosen by {settings.SOURCE.name}" if self.chosen else ""
        return f"{self.source} ({self.where}{chosen}): {self.outcome}: {self.detail}"


def diagnose(client: ImdbClient | None = None) -> list[Finding]:
    """Ask each source (GraphQL: two requests, HTML: one; no retries; the client's spacing
    holds between them)."""
    client = client or ImdbClient(max_retries=0)
    try:
        chosen = client.resolved_source()
    except ImdbError as error:
        return [Finding("settings", settings.SOURCE.name, "failing", str(error), True)]
    return [_graphql(client, chosen == "graphql"), _html(client, chosen == "html")]


def _graphql(client: ImdbClient, chosen: bool) -> Finding:
    """The project's two queries, as the daily run sends them: a genre's list (`first: 1`),
    then the details of the title it lists."""
    kind = "licensed" if client.licensed() else "public"
    url = client.resolved_graphql_url()

    def finding(outcome: str, detail: str) -> Finding:
        return Finding("graphql", f"{kind}, {url}", outcome, detail, chosen)

    variables = graphql.list_variables(PROBE_GENRE, first=1)
    listed = _ask(client, graphql.LIST_QUERY, variables, "GenreList", finding, kind)
    if isinstance(listed, Finding):
        return listed
    try:
        found = graphql.genre_list(listed, PROBE_GENRE)
    except (LayoutChangeError, IgnoredFilterError) as error:
        return finding("failing", f"GenreList: {error}; {SCHEMA_ADVICE}")
    if not found.titles:
        return finding("failing", f"GenreList: IMDb listed no {PROBE_GENRE} movie; try again later")
    title = found.titles[0]
    ids = [title["id"]]
    details = _ask(
        client, graphql.DETAILS_QUERY, graphql.details_variables(ids), "TitleDetails", finding, kind
    )
    if isinstance(details, Finding):
        return details
    try:
        [sent] = graphql.titles(details, ids)
        if sent is not None and not graphql.is_unavailable(sent):
            graphql.details_row(sent, 0)
    except LayoutChangeError as error:
        return finding("failing", f"TitleDetails: {error}; {SCHEMA_ADVICE}")
    return finding(
        "answers",
        f"GenreList and TitleDetails run: {found.total:,} English-language {PROBE_GENRE} "
        f"movies, the most popular {(title.get('titleText') or {}).get('text')!r} ({ids[0]}), "
        "its details read",
    )


def _ask(client: ImdbClient, query: str, variables: dict, operation: str, finding, kind: str):
    """The `data` of IMDb's answer to one of the project's queries, or the Finding that says
    why there is none."""
    try:
        exchange = client.graphql(query, variables, operation)
    except ImdbError as error:
        if kind == "licensed" and "cannot connect" not in str(error):
            return finding("unauthorized", str(error))
        return finding("unreachable", f"{error} ({settings.GRAPHQL_URL.name})")
    if exchange.status != 200:
        return _refused(exchange, client, finding, licensed=kind == "licensed")
    try:
        return graphql.answer_data(exchange.body)
    except graphql.GraphQLAnswerError as error:
        if (refused := refused_part(error.errors)) is not None:
            return finding(
                "schema-changed",
                f"IMDb refuses {refused} in the query {operation} ({error}): it changed its "
                f"schema, and the daily run would fail; {SCHEMA_ADVICE}",
            )
        advice = "try again later" if error.transient else SCHEMA_ADVICE
        return finding("failing", f"{operation}: IMDb answered with errors: {error}; {advice}")
    except LayoutChangeError as error:
        return finding("failing", f"{operation}: {error}; {SCHEMA_ADVICE}")


# What GraphQL validation says (graphql-js quotes with ", graphql-core with ') of a query
# the schema no longer takes, and how to name what it refuses.
_Q = "[\"']"
REFUSALS = (
    (rf"Cannot query field {_Q}(\w+){_Q} on type {_Q}(\w+){_Q}", "the field {1}.{0}"),
    (rf"Unknown argument {_Q}(\w+){_Q} on field {_Q}([\w.]+){_Q}", "the argument {0} of {1}"),
    (
        rf"Variable {_Q}\$(\w+){_Q} of type {_Q}([^\"']+){_Q} used in position expecting type "
        rf"{_Q}([^\"']+){_Q}",
        "the variable ${0} typed {1} (IMDb expects {2})",
    ),
    (rf"Unknown type {_Q}(\w+){_Q}", "the type {0}"),
)


def refused_part(errors: list) -> str | None:
    """What of a query IMDb refuses ("the field Title.principalCredits"), when its errors are
    validation errors; None for other errors."""
    for error in errors:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message", ""))
        for pattern, name in REFUSALS:
            if match := re.search(pattern, message):
                return name.format(*match.groups())
        if (error.get("extensions") or {}).get("code") == "GRAPHQL_VALIDATION_FAILED":
            return "a part"
    return None


def _html(client: ImdbClient, chosen: bool) -> Finding:
    url = client.search_url(PROBE_GENRE)

    def finding(outcome: str, detail: str) -> Finding:
        return Finding("html", client.resolved_base_url(), outcome, detail, chosen)

    try:
        exchange = client.fetch(url, accept=ANY_STATUS)
    except ImdbError as error:
        return finding("unreachable", f"{error} ({settings.BASE_URL.name})")
    if exchange.status == 200:
        try:
            page = parse_search_page(exchange.body.decode("utf-8", "replace"), PROBE_GENRE)
        except (LayoutChangeError, IgnoredFilterError) as error:
            return finding("failing", f"{error}; IMDb changed its pages")
        return finding("answers", f"{page.total:,} English-language {PROBE_GENRE} movies")
    return _refused(exchange, client, finding, licensed=False)


def _refused(exchange: Exchange, client: ImdbClient, finding, licensed: bool) -> Finding:
    status, headers = exchange.status, exchange.response_headers
    cause = client.refusal(exchange)
    if status == 202 or "x-amzn-waf-action" in headers:
        return finding("challenged", cause)
    if status in (401, 403) and licensed:
        return finding("unauthorized", cause)
    if status in (403, 415):
        return finding("refused", cause)
    return finding("failing", cause)
