"""ImdbClient: a polite HTTP client for IMDb's search and title pages.

One request at a time, at least `min_interval_seconds` apart, identified by its User-Agent;
429 and 5xx answers are retried by urllib3 with exponential backoff, honouring Retry-After.
Steps that use it share the Dagster pool `imdb` (limit 1), so runs never overlap requests.
"""

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urljoin, urlsplit

import dagster as dg
import requests
from pydantic import PrivateAttr
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from imdb_warehouse.imdb.urls import DEFAULT_BASE_URL, DEFAULT_SEARCH_PARAMS, search_url, title_url

BASE_URL_VAR = "IMDB_BASE_URL"
TODAY_VAR = "IMDB_WAREHOUSE_TODAY"
INTERVAL_VAR = "IMDB_MIN_INTERVAL_SECONDS"
IMDB_POOL = "imdb"
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 imdb_warehouse/0.1 (personal research)"
)
REDIRECTS = (301, 302, 303, 307, 308)
UNAVAILABLE = (404, 410)


class ImdbError(RuntimeError):
    """IMDb could not be read; the message says what happened and what to do."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    fetched_at: datetime


class ImdbClient(dg.ConfigurableResource):
    """Fetches IMDb pages politely. Unset fields take their defaults; `base_url` falls back to
    IMDB_BASE_URL, then https://www.imdb.com; `min_interval_seconds` to
    IMDB_MIN_INTERVAL_SECONDS, then 1. `today`, or IMDB_WAREHOUSE_TODAY, fixes the snapshot
    date (the UTC date of a fetch) for demos and tests."""

    base_url: str | None = None
    user_agent: str = DEFAULT_USER_AGENT
    accept_language: str = "en-US,en;q=0.9"
    search_params: dict[str, str] = dict(DEFAULT_SEARCH_PARAMS)
    min_interval_seconds: float | None = None
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0
    max_retries: int = 4
    backoff_seconds: float = 2.0
    max_response_bytes: int = 8_000_000
    today: str | None = None

    _session: requests.Session | None = PrivateAttr(default=None)
    _last_request: float = PrivateAttr(default=0.0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def resolved_base_url(self) -> str:
        return (self.base_url or os.environ.get(BASE_URL_VAR) or DEFAULT_BASE_URL).rstrip("/")

    def interval(self) -> float:
        if self.min_interval_seconds is not None:
            return self.min_interval_seconds
        return float(os.environ.get(INTERVAL_VAR, "1"))

    def now(self) -> datetime:
        """The current UTC time, on the fixed day when one is configured."""
        now = datetime.now(UTC)
        fixed = self.today or os.environ.get(TODAY_VAR)
        if fixed:
            return datetime.combine(date.fromisoformat(fixed), now.time(), tzinfo=UTC)
        return now

    def search_url(self, genre_slug: str) -> str:
        return search_url(self.resolved_base_url(), genre_slug, self.search_params)

    def title_url(self, title_id: str) -> str:
        return title_url(self.resolved_base_url(), title_id)

    def fetch_search_page(self, genre_slug: str) -> Fetched:
        return self.fetch(self.search_url(genre_slug))

    def fetch_title_page(self, title_id: str) -> Fetched:
        """A title page; a removed or merged title answers 404 or 410, which is returned."""
        return self.fetch(self.title_url(title_id), accept=UNAVAILABLE)

    def fetch(self, url: str, accept: tuple[int, ...] = ()) -> Fetched:
        """GET `url` on the configured host: 200 (or a status in `accept`), or ImdbError."""
        for attempt in range(self.max_retries + 1):
            try:
                return self._fetch_following_redirects(url, accept)
            except requests.exceptions.ChunkedEncodingError as error:  # a truncated body
                if attempt == self.max_retries:
                    raise ImdbError(
                        f"{url}: the response was cut short {attempt + 1} times ({error}); "
                        "IMDb or the network is failing, try again later"
                    ) from None
                time.sleep(self.backoff_seconds * 2**attempt)
        raise AssertionError("unreachable")

    def _fetch_following_redirects(self, url: str, accept: tuple[int, ...]) -> Fetched:
        host = urlsplit(self.resolved_base_url()).netloc
        for _ in range(5):
            response = self._get(url)
            if response.status_code not in REDIRECTS:
                break
            target = urljoin(url, response.headers.get("Location", ""))
            if urlsplit(target).netloc != host:
                raise ImdbError(
                    f"{url} redirected to {target}, away from {host}: IMDb may be sending this "
                    "client elsewhere (a consent or bot page); check the URL in a browser"
                )
            url = target
        else:
            raise ImdbError(f"{url}: more than 5 redirects")
        if response.status_code == 202 or "x-amzn-waf-action" in response.headers:
            raise ImdbError(
                f"{url}: IMDb answered with a bot challenge (HTTP {response.status_code}, "
                f"x-amzn-waf-action: {response.headers.get('x-amzn-waf-action', '-')}); it wants "
                "a browser. Wait (hours) before trying again, and keep requests slow"
            )
        if response.status_code != 200 and response.status_code not in accept:
            raise ImdbError(
                f"{url}: HTTP {response.status_code} after {self.max_retries} retries with "
                "backoff; IMDb is refusing or failing, try again later"
            )
        body = self._read_body(url, response)
        # whole seconds: the archive keeps the fetch time as the gzip timestamp
        return Fetched(url, response.status_code, body, self.now().replace(microsecond=0))

    def _get(self, url: str) -> requests.Response:
        with self._lock:  # one request in flight, at least min_interval_seconds apart
            wait = self._last_request + self.interval() - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                return self._http().get(
                    url,
                    allow_redirects=False,
                    stream=True,
                    timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
                )
            except requests.exceptions.RetryError as error:
                raise ImdbError(
                    f"{url}: still failing after {self.max_retries} retries with backoff "
                    f"({error.args[0].reason if error.args else error}); try again later"
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
                if isinstance(error, requests.exceptions.Timeout) or "timed out" in str(error):
                    raise ImdbError(
                        f"{url}: no answer within {self.read_timeout_seconds:g} s in "
                        f"{self.max_retries + 1} tries; IMDb is slow or unreachable"
                    ) from None
                raise ImdbError(
                    f"{url}: cannot connect ({error}); is the base URL right?"
                ) from None
            finally:
                self._last_request = time.monotonic()

    def _read_body(self, url: str, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            response.close()
            raise ImdbError(
                f"{url}: the response announces {int(declared):,} bytes, over the limit of "
                f"{self.max_response_bytes:,} bytes (max_response_bytes); not a page we read"
            )
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()
                raise ImdbError(
                    f"{url}: the response is over the limit of {self.max_response_bytes:,} bytes "
                    "(max_response_bytes); not a page we read"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _http(self) -> requests.Session:
        if self._session is None:
            retry = Retry(
                total=self.max_retries,
                connect=self.max_retries,
                read=self.max_retries,
                status=self.max_retries,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=("GET",),
                backoff_factor=self.backoff_seconds,
                respect_retry_after_header=True,
                raise_on_status=False,
                redirect=False,
            )
            session = requests.Session()
            session.mount("http://", HTTPAdapter(max_retries=retry))
            session.mount("https://", HTTPAdapter(max_retries=retry))
            session.headers.update(
                {
                    "User-Agent": self.user_agent,
                    "Accept-Language": self.accept_language,
                    "Accept": "text/html,application/xhtml+xml",
                }
            )
            self._session = session
        return self._session
