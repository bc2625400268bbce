"""`imdb-warehouse doctor`: one request to each configured IMDb source, and a line for each:
answers, challenged, refused, unauthorized, unreachable or failing, with what to do."""

from dataclasses import dataclass

from imdb_warehouse import settings
from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.fields import IgnoredFilterError, LayoutChangeError
from imdb_warehouse.imdb.parse import parse_search_page
from imdb_warehouse.resources.imdb_client import Exchange, ImdbClient, ImdbError

PROBE_GENRE = "drama"
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
    """Ask each source once (no retries; the client's spacing holds between the two)."""
    client = client or ImdbClient(max_retries=0)
    try:
        chosen = client.resolved_source()
    except ImdbError as error:
        return [Finding("settings", settings.SOURCE.name, "failing", str(error), True)]
    return [_graphql(client, chosen == "graphql"), _html(client, chosen == "html")]


def _graphql(client: ImdbClient, chosen: bool) -> Finding:
    kind = "licensed" if client.licensed() else "public"
    url = client.resolved_graphql_url()

    def finding(outcome: str, detail: str) -> Finding:
        return Finding("graphql", f"{kind}, {url}", outcome, detail, chosen)

    try:
        variables = graphql.list_variables(PROBE_GENRE, first=1)
        exchange = client.graphql(graphql.LIST_QUERY, variables, "GenreList")
    except ImdbError as error:
        if kind == "licensed" and "cannot connect" not in str(error):
            return finding("unauthorized", str(error))
        return finding("unreachable", f"{error} ({settings.GRAPHQL_URL.name})")
    if exchange.status == 200:
        try:
            found = graphql.genre_list(graphql.answer_data(exchange.body), PROBE_GENRE)
        except graphql.GraphQLAnswerError as error:
            advice = "try again later" if error.transient else "see docs/imdb.md, schema changes"
            return finding("failing", f"IMDb answered with errors: {error}; {advice}")
        except (LayoutChangeError, IgnoredFilterError) as error:
            return finding("failing", f"{error}; see docs/imdb.md, schema changes")
        return finding(
            "answers",
            f"{found.total:,} English-language {PROBE_GENRE} movies, the most popular "
            f"{(found.titles[0].get('titleText') or {}).get('text') if found.titles else '-'!r}",
        )
    return _refused(exchange, client, finding, licensed=kind == "licensed")


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
