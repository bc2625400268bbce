"""ImdbClient: the one way to IMDb, its GraphQL API or its pages, polite on every path.

Every request, first tries and retries alike, passes one gate: one at a time, and none sooner
than `min_interval_seconds` after the previous one ended. Answers worth trying again (429, 5xx,
timeouts, truncated bodies, GraphQL errors such as "Rate exceeded" inside HTTP 200) are retried
under urllib3's `Retry` policy: exponential backoff, honouring `Retry-After` up to
`max_retry_after_seconds`, each wait logged. A caller that will ask smaller instead (the
halves of a details batch) passes `retry_splittable=False`: the failures a smaller request may
get through (`split_cause`) then come back at once. Steps that use the client share the Dagster
pool `imdb` (limit 1), so runs never overlap requests either.

The licensed endpoint (IMDb API on AWS Data Exchange) is used when IMDB_API_KEY is set: every
request carries the key and the subscription's ids, and is signed with AWS SigV4 by botocore
from the standard AWS credential chain. No secret reaches a log, an error or an `Exchange`.
"""

import json
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from importlib.metadata import version
from urllib.parse import urljoin, urlsplit

import dagster as dg
import requests
from pydantic import PrivateAttr
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from imdb_warehouse import settings
from imdb_warehouse.imdb.graphql import LICENSED_ENDPOINT, PUBLIC_ENDPOINT, GraphQLAnswerError
from imdb_warehouse.imdb.urls import DEFAULT_SEARCH_PARAMS, search_url, title_url
from imdb_warehouse.runs import PID_TAG, owner_tags

IMDB_POOL = "imdb"
SOURCES = ("graphql", "html")
REDIRECTS = (301, 302, 303, 307, 308)
UNAVAILABLE = (404, 410)
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Failures a smaller request may get through: the caller may split the request instead.
SPLIT_STATUSES = (413, 502, 503, 504)
# What an archived exchange keeps of the headers: never a key, a signature or a token.
KEPT_REQUEST_HEADERS = (
    "Content-Type", "Referer", "User-Agent", "x-imdb-user-country", "x-imdb-user-language",
    "x-amzn-dataexchange-data-set-id", "x-amzn-dataexchange-revision-id",
    "x-amzn-dataexchange-asset-id",
)  # fmt: skip
KEPT_RESPONSE_HEADERS = (
    "Content-Type", "Date", "Retry-After", "Server", "x-amzn-RequestId", "x-amzn-ErrorType",
    "x-amzn-waf-action", "x-cache", "Location",
)  # fmt: skip
SIGNING_REGION = "us-east-1"

log = dg.get_dagster_logger("imdb_warehouse.imdb")


class ImdbError(RuntimeError):
    """IMDb could not be read; the message says what happened and what to do."""


@dataclass(frozen=True)
class Exchange:
    """One request and IMDb's answer to it, as the archive keeps them (no secret in it)."""

    url: str
    method: str
    status: int
    body: bytes
    fetched_at: datetime
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    request_body: dict | None = None  # a GraphQL request: query, variables, operationName
    attempts: int = 1  # tries it took (the earlier ones were worth trying again)
    problem: str | None = None  # no answer came (status 0): why, e.g. a timeout


class NoAnswerError(ImdbError):
    """No answer came (a timeout, a body cut short), after the tries allowed; `exchange` is
    the request with status 0 and the problem, for the archive to keep."""

    def __init__(self, message: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.exchange = exchange


def split_cause(exchange: Exchange) -> str | None:
    """Why a smaller request may get through where this one failed (HTTP 413, 502, 503, 504,
    no answer in time, a body cut short), or None."""
    if exchange.problem:
        return exchange.problem
    if exchange.status in SPLIT_STATUSES:
        tries = f" after {exchange.attempts} tries" if exchange.attempts > 1 else ""
        return f"HTTP {exchange.status}{tries}"
    return None


class ImdbClient(dg.ConfigurableResource):
    """Reads IMDb politely. Unset fields take their settings (`imdb_warehouse/settings.py`):
    `source` IMDB_SOURCE (graphql), `graphql_url` IMDB_GRAPHQL_URL, `base_url` IMDB_BASE_URL,
    `min_interval_seconds` IMDB_MIN_INTERVAL_SECONDS, `contact` IMDB_CONTACT, `today`
    IMDB_WAREHOUSE_TODAY (fixes the
    snapshot date, the UTC date of a fetch, for demos and tests)."""

    source: str | None = None
    graphql_url: str | None = None
    base_url: str | None = None
    contact: str | None = None
    user_country: str = "US"
    user_language: str = "en-US"
    search_params: dict[str, str] = dict(DEFAULT_SEARCH_PARAMS)
    details_batch_size: int = 250
    min_interval_seconds: float | None = None
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0
    max_retries: int = 4
    backoff_seconds: float = 2.0
    max_retry_after_seconds: float = 300.0
    max_response_bytes: int = 16_000_000
    today: str | None = None

    _session: requests.Session | None = PrivateAttr(default=None)
    _last_request: float = PrivateAttr(default=float("-inf"))
    _not_before: float = PrivateAttr(default=float("-inf"))
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run that reads IMDb names its process, so that if the process dies, the run is
        found and lets go of its `imdb` pool slot (`imdb_warehouse.runs`)."""
        run = context.run
        if context.instance is not None and run is not None and PID_TAG not in run.tags:
            context.instance.add_run_tags(run.run_id, owner_tags())

    # --- configuration ---

    def resolved_source(self) -> str:
        source = (self.source or settings.SOURCE.get() or "graphql").strip().lower()
        if source not in SOURCES:
            raise ImdbError(
                f"{settings.SOURCE.name}={source!r} is not a source; use graphql (IMDb's "
                "GraphQL API, the default) or html (its pages)"
            )
        return source

    def licensed(self) -> bool:
        """Whether requests go to the licensed IMDb API (IMDB_API_KEY is set)."""
        return bool(settings.API_KEY.get())

    def resolved_graphql_url(self) -> str:
        default = LICENSED_ENDPOINT if self.licensed() else PUBLIC_ENDPOINT
        return self.graphql_url or settings.GRAPHQL_URL.get() or default

    def resolved_base_url(self) -> str:
        return (self.base_url or settings.BASE_URL.get() or "").rstrip("/")

    def interval(self) -> float:
        if self.min_interval_seconds is not None:
            return self.min_interval_seconds
        value = settings.MIN_INTERVAL.get() or "1"
        try:
            return max(0.0, float(value))
        except ValueError:
            raise ImdbError(
                f"{settings.MIN_INTERVAL.name}={value!r} is not a number of seconds"
            ) from None

    def user_agent(self) -> str:
        contact = self.contact or settings.CONTACT.get()
        return f"imdb_warehouse/{version('imdb_warehouse')} (+{contact})"

    def now(self) -> datetime:
        """The current UTC time, on the fixed day when one is configured."""
        now = datetime.now(UTC)
        fixed = self.today or settings.TODAY.get()
        if fixed:
            try:
                day = date.fromisoformat(fixed)
            except ValueError:
                raise ImdbError(
                    f"{settings.TODAY.name}={fixed!r} is not a date; use YYYY-MM-DD, or unset it"
                ) from None
            if day > now.date():
                raise ImdbError(
                    f"{settings.TODAY.name}={fixed} is after the real date ({now.date()}, UTC): "
                    "IMDb has no lists of a day to come; give a day that was, or unset it"
                )
            return datetime.combine(day, now.time(), tzinfo=UTC)
        return now

    def search_url(self, genre_slug: str) -> str:
        return search_url(self.resolved_base_url(), genre_slug, self.search_params)

    def title_url(self, title_id: str) -> str:
        return title_url(self.resolved_base_url(), title_id)

    # --- GraphQL ---

    def graphql(
        self, query: str, variables: dict, operation: str, *, retry_splittable: bool = True
    ) -> Exchange:
        """POST a GraphQL request; IMDb's final answer, whatever it says: the caller archives it,
        then reads it (`refusal` when not HTTP 200, else `imdb.graphql.answer_data`). Answers
        worth trying again (429, 5xx, transient GraphQL errors) were retried until they stopped
        or the tries ran out. With `retry_splittable` False, the failures a smaller request may
        get through (`split_cause`) are not retried: the caller splits the request instead.
        NoAnswerError when no answer came."""
        url = self.resolved_graphql_url()
        request_body = {"operationName": operation, "query": query, "variables": variables}
        payload = json.dumps(request_body).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": self.user_agent(),
            "x-imdb-user-country": self.user_country,
            "x-imdb-user-language": self.user_language,
        }
        if self.licensed():
            sign = self._licensed_signer(url, payload, headers)
        else:
            headers["Referer"] = "https://www.imdb.com/"  # the public endpoint's header rule
            sign = None
        try:
            exchange = self._exchange(
                "POST",
                url,
                headers,
                payload,
                sign=sign,
                graphql=True,
                retry_splittable=retry_splittable,
            )
        except NoAnswerError as error:
            error.exchange = replace(error.exchange, request_body=request_body)
            raise
        return replace(exchange, request_body=request_body)

    def _licensed_signer(self, url: str, payload: bytes, headers: dict[str, str]):
        """A function giving each try's headers: the subscription's ids, a fresh SigV4
        signature (botocore), then the API key (never given to botocore, so never in its
        debug log of what it signs)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.session import get_session

        ids = {
            "x-amzn-dataexchange-data-set-id": settings.DATA_SET_ID,
            "x-amzn-dataexchange-revision-id": settings.REVISION_ID,
            "x-amzn-dataexchange-asset-id": settings.ASSET_ID,
        }
        missing = [s.name for s in ids.values() if not s.get()]
        if missing:
            raise ImdbError(
                f"the licensed IMDb API needs {', '.join(missing)} (the subscription's ids in "
                "AWS Data Exchange) besides IMDB_API_KEY; see docs/imdb.md"
            )
        credentials = get_session().get_credentials()
        if credentials is None:
            raise ImdbError(
                "the licensed IMDb API signs every request with AWS credentials, and none were "
                "found (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a role); "
                "see docs/imdb.md"
            )
        unsigned = {**headers, **{name: s.get() for name, s in ids.items()}}

        def sign() -> dict[str, str]:
            request = AWSRequest(method="POST", url=url, data=payload, headers=dict(unsigned))
            frozen = credentials.get_frozen_credentials()
            SigV4Auth(frozen, "dataexchange", SIGNING_REGION).add_auth(request)
            return {**dict(request.headers.items()), "x-api-key": settings.API_KEY.get()}

        return sign

    # --- pages ---

    def fetch_search_page(self, genre_slug: str) -> Exchange:
        return self.fetch(self.search_url(genre_slug))

    def fetch_title_page(self, title_id: str) -> Exchange:
        """A title page; a removed or merged title answers 404 or 410, which is returned."""
        return self.fetch(self.title_url(title_id), accept=UNAVAILABLE)

    def fetch(self, url: str, accept: tuple[int, ...] = ()) -> Exchange:
        """GET a page of the configured site: 200 (or a status in `accept`), or ImdbError.
        Redirects are followed on that host only."""
        host = urlsplit(self.resolved_base_url()).netloc
        headers = {
            "User-Agent": self.user_agent(),
            "Accept": "text/html,application/xhtml+xml",
            "Accept-Language": f"{self.user_language},en;q=0.9",
        }
        for _ in range(5):
            exchange = self._exchange("GET", url, headers, None)
            if exchange.status not in REDIRECTS:
                break
            target = urljoin(url, exchange.response_headers.get("Location", ""))
            if urlsplit(target).netloc != host:
                raise ImdbError(
                    f"{url} redirected to {target}, away from {host}: IMDb may be sending this "
                    "client elsewhere (a consent or bot page); check the URL in a browser"
                )
            url = target
        else:
            raise ImdbError(f"{url}: more than 5 redirects")
        if exchange.status != 200 and exchange.status not in accept:
            raise ImdbError(self.refusal(exchange))
        return exchange

    # --- every request ---

    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        payload: bytes | None,
        *,
        sign=None,
        graphql: bool = False,
        retry_splittable: bool = True,
    ) -> Exchange:
        """One request, retried while the answer is worth trying again (but for the failures a
        smaller request may get through, unless `retry_splittable`). NoAnswerError when none
        came."""
        retry = Retry(
            total=self.max_retries,
            backoff_factor=self.backoff_seconds,
            backoff_max=self.max_retry_after_seconds,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,
            raise_on_status=False,
            redirect=False,
        )
        while True:
            retry_after = None
            sent = sign() if sign else headers
            try:
                exchange = self._attempt(method, url, sent, payload)
                problem = self._problem(exchange, graphql)
                if exchange.status in RETRY_STATUSES:
                    retry_after = retry.parse_retry_after(
                        exchange.response_headers.get("Retry-After") or "0"
                    )
            except requests.exceptions.ChunkedEncodingError:
                exchange, problem = None, "the answer was cut short"
            except requests.exceptions.Timeout:
                exchange, problem = None, f"no answer within {self.read_timeout_seconds:g} s"
            except requests.exceptions.ConnectionError as error:
                if "timed out" not in str(error):
                    reason = getattr(error.args[0], "reason", error) if error.args else error
                    raise ImdbError(
                        f"{url}: cannot connect ({reason}); check the network and the URL"
                    ) from None
                exchange, problem = None, f"no answer within {self.read_timeout_seconds:g} s"
            tries = len(retry.history) + 1
            if exchange is not None and problem is None:  # a final answer, good or bad
                return replace(exchange, attempts=tries)
            if not retry_splittable and (exchange is None or exchange.status in SPLIT_STATUSES):
                self._hold_for(retry_after, url, problem)
                if exchange is not None:
                    return replace(exchange, attempts=tries)
                raise self._no_answer(method, url, sent, problem, tries, f"{url}: {problem}")
            try:
                retry = retry.increment(method, url, error=ImdbError(problem))
            except MaxRetryError:
                if exchange is not None:  # the last answer, for the caller to keep and explain
                    return replace(exchange, attempts=tries)
                raise self._no_answer(
                    method,
                    url,
                    sent,
                    problem,
                    tries,
                    f"{url}: {problem}, still after {self.max_retries} retries with backoff; "
                    "IMDb or the network is failing, try again later",
                ) from None
            if retry_after and retry_after > self.max_retry_after_seconds:
                raise self._wait_too_long(url, problem, retry_after)
            wait = max(retry_after or 0.0, retry.get_backoff_time(), self.interval())
            log.warning(
                f"IMDb: {url}: {problem}; retry {len(retry.history)} of {self.max_retries} "
                f"in {wait:.1f} s"
            )
            self._not_before = time.monotonic() + wait

    def _hold_for(self, retry_after: float | None, url: str, problem: str | None) -> None:
        """A failure not retried still holds the next request for the Retry-After asked."""
        if not retry_after:
            return
        if retry_after > self.max_retry_after_seconds:
            raise self._wait_too_long(url, problem, retry_after)
        self._not_before = time.monotonic() + retry_after

    def _wait_too_long(self, url: str, problem: str | None, retry_after: float) -> ImdbError:
        return ImdbError(
            f"{url}: {problem}, and IMDb asks to wait {retry_after:g} s (Retry-After), "
            f"longer than max_retry_after_seconds ({self.max_retry_after_seconds:g}); "
            "try again later"
        )

    def _no_answer(
        self, method: str, url: str, headers: dict, problem: str | None, tries: int, message: str
    ) -> NoAnswerError:
        exchange = Exchange(
            url=url,
            method=method,
            status=0,
            body=b"",
            fetched_at=self.now().replace(microsecond=0),
            request_headers=_kept(headers, KEPT_REQUEST_HEADERS),
            attempts=tries,
            problem=problem,
        )
        return NoAnswerError(message, exchange)

    def _problem(self, exchange: Exchange, graphql: bool) -> str | None:
        """Why this answer is worth trying again, or None (a final answer, good or bad)."""
        if exchange.status in RETRY_STATUSES:
            return f"HTTP {exchange.status}"
        if graphql and exchange.status == 200 and b'"errors"' in exchange.body:
            try:
                answer = json.loads(exchange.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return None  # not JSON: the reader says so, with the archived answer
            errors = answer.get("errors") if isinstance(answer, dict) else None
            if errors:
                error = GraphQLAnswerError(errors if isinstance(errors, list) else [errors])
                if error.transient:
                    return f"IMDb answered with errors: {error}"
        return None

    def _attempt(
        self, method: str, url: str, headers: dict[str, str], payload: bytes | None
    ) -> Exchange:
        """Send once, through the gate: one request at a time, spaced."""
        with self._lock:
            start_at = max(self._not_before, self._last_request + self.interval())
            if (wait := start_at - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                response = self._http().request(
                    method,
                    url,
                    headers=headers,
                    data=payload,
                    allow_redirects=False,
                    stream=True,
                    timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
                )
                body = self._read_body(url, response)
            finally:
                self._last_request = time.monotonic()
        return Exchange(
            url=url,
            method=method,
            status=response.status_code,
            body=body,
            # whole seconds: the archive keeps the fetch time as the gzip timestamp
            fetched_at=self.now().replace(microsecond=0),
            request_headers=_kept(headers, KEPT_REQUEST_HEADERS),
            response_headers=_kept(response.headers, KEPT_RESPONSE_HEADERS),
        )

    def refusal(self, exchange: Exchange) -> str:
        """The one-line cause of a final answer that is not 200."""
        url, status = exchange.url, exchange.status
        if status == 202 or "x-amzn-waf-action" in exchange.response_headers:
            return (
                f"{url}: IMDb answered with a bot challenge (HTTP {status}, x-amzn-waf-action: "
                f"{exchange.response_headers.get('x-amzn-waf-action', '-')}). Since early 2026 "
                "IMDb's pages challenge every program, for good, and this project does not get "
                f"around it: use {settings.SOURCE.name}=graphql (the default)"
            )
        if exchange.method == "POST" and status in (403, 415) and not self.licensed():
            return (
                f"{url}: HTTP {status}: IMDb's GraphQL endpoint refuses requests without "
                "`Content-Type: application/json` and a `Referer` or `x-imdb-client-name` "
                "header (its rule since 2026-07); it may have changed the rule, see docs/imdb.md"
            )
        if exchange.method == "POST" and status in (401, 403):
            aws_error = exchange.response_headers.get("x-amzn-ErrorType", "")
            return (
                f"{url}: HTTP {status} {aws_error}: the licensed IMDb API refused the request "
                f"({_message(exchange.body)}); check IMDB_API_KEY, the subscription's ids and "
                "the AWS credentials (docs/imdb.md)"
            )
        tries = f" after {exchange.attempts} tries with backoff" if exchange.attempts > 1 else ""
        if exchange.problem:
            return (
                f"{url}: {exchange.problem}{tries}; IMDb or the network is failing, try again later"
            )
        return f"{url}: HTTP {status}{tries}; IMDb is refusing or failing, try again later"

    def _read_body(self, url: str, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            response.close()
            raise ImdbError(
                f"{url}: the response announces {int(declared):,} bytes, over the limit of "
                f"{self.max_response_bytes:,} bytes (max_response_bytes); not an answer we read"
            )
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()
                raise ImdbError(
                    f"{url}: the response is over the limit of {self.max_response_bytes:,} bytes "
                    "(max_response_bytes); not an answer we read"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()  # retries are ours: see _exchange
        return self._session


def _kept(headers, names: tuple[str, ...]) -> dict[str, str]:
    return {name: headers[name] for name in names if name in headers}


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")
