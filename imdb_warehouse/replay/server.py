"""An offline IMDb over HTTP: its GraphQL API and its pages, from the synthetic catalogue,
with injectable faults.

- `POST /`: the public GraphQL endpoint (api.graphql.imdb.com), with its header rule: no
  `x-imdb-client-name` nor `Referer` → 403 (HTML, from the CDN); no `Content-Type:
  application/json` → 415.
- `POST /v1`: the licensed endpoint (IMDb API on AWS Data Exchange): API key, subscription ids
  and a SigV4 signature checked against `License` (`licensed.py`).
- `GET /search/title/?genres=<slug>&…` and `GET /title/tt…/`: the HTML pages.

Faults are given as specs (`parse_fault`), decided per request deterministically so that runs
repeat. A fault's `path` is a prefix of what it applies to: the path and query of a page, or
`/graphql/<operation name>` (`/graphql/GenreList`, `/graphql/TitleDetails`) of a GraphQL request.
Control endpoints under `/__replay__/` (never faulted, never logged) read the request log and
change the faults and the day while the server runs.
"""

import json
import math
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from imdb_warehouse.imdb.genres import GENRE_BY_SLUG
from imdb_warehouse.imdb.urls import DEFAULT_SEARCH_PARAMS
from imdb_warehouse.replay import graphql, pages
from imdb_warehouse.replay.catalogue import Catalogue
from imdb_warehouse.replay.faults import ANSWER_FAULTS, Fault, Faults, parse_fault
from imdb_warehouse.replay.licensed import License, refusal

REDIRECT_HOST = "https://elsewhere.invalid"
CONTROL_PREFIX = "/__replay__/"
TITLE_PATH = re.compile(r"^/title/(tt\d{7,8})/?$")
SEARCH_PATHS = ("/search/title/", "/search/title")
HTML = "text/html; charset=utf-8"
PLAIN = "text/plain; charset=utf-8"
JSON = "application/json"
OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


@dataclass
class RequestRecord:
    """One request (a page, or a GraphQL operation) as the server saw it."""

    path: str  # with the query
    method: str
    user_agent: str | None
    accept_language: str | None
    started: float  # time.time()
    finished: float
    status: int
    fault: str | None  # the fault kind applied, if any
    operation: str | None = None  # of a GraphQL request


@dataclass
class _Response:
    status: int
    body: str
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # announce the whole body, send half, hang up
    delay: float = 0.0  # seconds to wait before answering


def _message_page(message: str) -> str:
    head = f"<!DOCTYPE html><html><head><title>{message}</title></head>"
    return f"{head}<body><h1>{message}</h1></body></html>"


class ReplayServer:
    """IMDb on 127.0.0.1 from the synthetic catalogue. `day=None` serves today's UTC date,
    read at each request. Use as a context manager, or `start()` and `stop()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        day: date | None = None,
        faults: Sequence[Fault | str] = (),
        seed: int = 0,
        catalogue: Catalogue | None = None,
        license: License | None = None,
        public_headers: Sequence[str] = ("x-imdb-client-name", "Referer"),
    ) -> None:
        self._faults = Faults(faults, seed)  # first: a bad spec fails before any work
        self.license = license or License()
        # The public endpoint's header rule: one of these, besides Content-Type JSON.
        self.public_headers = tuple(public_headers)
        self.host = host
        self.port = port
        self.seed = seed
        self.catalogue = catalogue if catalogue is not None else Catalogue(seed)
        self._day = day
        # Page requests, oldest first. A plain list: appending and clearing are atomic.
        self.requests: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---

    def start(self) -> "ReplayServer":
        """Bind and serve from a daemon thread (returns once requests are accepted)."""
        if self._http is not None:
            raise RuntimeError("the replay server is already running")
        self._warm_up()
        self._http = _HTTPServer((self.host, self.port), _Handler, self)
        self.port = self._http.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._http.serve_forever, name=f"imdb-replay:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; requests sleeping in a slow fault end at once."""
        if self._http is None:
            return
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = self._thread = None

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8123 (the real port once started)."""
        return f"http://{self.host}:{self.port}"

    def _warm_up(self) -> None:
        """Make the page filler and the day's rankings before the first request needs them."""
        day = self.today()
        for pretty in (False, True):
            query = {**DEFAULT_SEARCH_PARAMS, "genres": "drama"}
            pages.search_page(self.catalogue, "drama", day, query, pretty=pretty)

    # --- settings, also reachable over HTTP ---

    @property
    def day(self) -> date | None:
        """The day served; None means today's UTC date at each request."""
        return self._day

    def set_day(self, day: date | None) -> None:
        """Serve `day` from now on (None: today's UTC date at each request)."""
        self._day = day

    def today(self) -> date:
        """The day the next request is served for."""
        return self._day or datetime.now(UTC).date()

    @property
    def faults(self) -> list[Fault]:
        """The active faults, in the order they are tried."""
        return list(self._faults.faults)

    def set_faults(self, faults: Sequence[Fault | str]) -> None:
        """Replace the faults (all specs are checked first); their counts start again."""
        self._faults = Faults(faults, self.seed)

    def reset(self) -> None:
        """Forget the request log."""
        self.requests.clear()


def _operation_name(request) -> str:
    """The GraphQL operation a request names (or its query's first), else `anonymous`."""
    if not isinstance(request, dict):
        return "anonymous"
    if isinstance(request.get("operationName"), str):
        return request["operationName"]
    match = (
        OPERATION.match(request.get("query") or "")
        if isinstance(request.get("query"), str)
        else None
    )
    return match.group(1) if match else "anonymous"


def _title_ids(request) -> list[str]:
    """The title ids a GraphQL request asks about (the `ids` of `titles`), else none."""
    variables = request.get("variables") if isinstance(request, dict) else None
    ids = variables.get("ids") if isinstance(variables, dict) else None
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler, replay: ReplayServer) -> None:
        self.replay = replay
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up (timeouts, closed keep-alive connections) are no errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def version_string(self) -> str:
        return "imdb-replay/1"

    def log_message(self, format: str, *args) -> None:
        """Quiet: the request log is `ReplayServer.requests`."""

    def do_GET(self) -> None:
        if self.path.startswith(CONTROL_PREFIX):
            self._control("GET")
        else:
            self._answer(self._page)

    def do_POST(self) -> None:
        if self.path.startswith(CONTROL_PREFIX):
            self._control("POST")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(lambda: self._graphql(body))

    def _answer(self, respond) -> None:
        """Answer with what `respond()` makes of the request: (fault, operation, response)."""
        replay = self.server.replay
        started = time.time()
        fault = operation = None
        try:
            fault, operation, response = respond()
        except Exception as error:  # a bug in the replay: say so rather than hang up
            response = _Response(500, f"replay: internal error: {error!r}\n", PLAIN)
        record = RequestRecord(
            path=self.path,
            method=self.command,
            user_agent=self.headers.get("User-Agent"),
            accept_language=self.headers.get("Accept-Language"),
            started=started,
            finished=time.time(),
            status=response.status,
            fault=fault.kind if fault else None,
            operation=operation,
        )
        # Logged before the answer leaves: a client holding the answer finds it in the log.
        replay.requests.append(record)
        if response.delay:
            replay._stopping.wait(response.delay)
            record.finished = time.time()
        try:
            self._send(
                response.status,
                response.body,
                response.content_type,
                headers=response.headers,
                truncate=response.truncate,
            )
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its read timeout)

    def _http_fault(self, fault: Fault | None) -> "_Response | None":
        """The answer of a fault that replaces the whole answer, if `fault` is one."""
        if fault is None:
            return None
        kind = fault.kind
        if kind == "429":
            headers = {"Retry-After": str(math.ceil(fault.delay))}
            return _Response(429, _message_page("Too Many Requests"), headers=headers)
        if kind in ("413", "503", "504", "batch-504"):
            status = int(kind.removeprefix("batch-"))
            wait = {"Retry-After": str(math.ceil(fault.delay))} if fault.seconds is not None else {}
            return _Response(status, _message_page(HTTPStatus(status).phrase), headers=wait)
        if kind == "challenge":
            headers = {"x-amzn-waf-action": "challenge"}
            return _Response(202, pages.challenge_page(), headers=headers)
        if kind == "redirect-away":
            return _Response(302, "", headers={"Location": REDIRECT_HOST + self.path})
        if kind in ("404", "410"):
            return _Response(int(kind), pages.not_found_page())
        return None

    # --- GraphQL ---

    def _graphql(self, body: bytes) -> tuple[Fault | None, str | None, "_Response"]:
        replay = self.server.replay
        endpoint = urlsplit(self.path).path
        if endpoint == "/v1":
            url = f"http://{self.headers.get('Host', '')}{self.path}"
            refused = refusal(replay.license, "POST", url, self.headers, body)
            if refused:
                error_type, message = refused
                headers = {"x-amzn-ErrorType": error_type}
                return None, None, _Response(403, json.dumps({"message": message}), JSON, headers)
        elif endpoint == "/":
            if not any(self.headers.get(name) for name in replay.public_headers):
                return None, None, _Response(403, _message_page("403 ERROR: Request blocked"))
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return (
                    None,
                    None,
                    _Response(415, json.dumps({"message": "Invalid content type"}), JSON),
                )
        else:
            return (
                None,
                None,
                _Response(404, "replay: GraphQL is POST / (or /v1, licensed)\n", PLAIN),
            )
        try:
            request = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            answer = {"errors": [{"message": f"the body is not JSON: {error}"}]}
            return None, None, _Response(400, json.dumps(answer), JSON)
        operation = _operation_name(request)
        fault = replay._faults.choose(f"/graphql/{operation}", operation, _title_ids(request))
        if (response := self._http_fault(fault)) is not None:
            return fault, operation, response
        kind = fault.kind if fault else None
        answer = graphql.execute(
            replay.catalogue,
            replay.today(),
            request,
            kind if kind in ANSWER_FAULTS else None,
            drifted=fault.drifted_field if fault else None,
        )
        return (
            fault,
            operation,
            _Response(
                200,
                json.dumps(answer, ensure_ascii=False),
                JSON,
                truncate=kind == "truncated",
                delay=fault.delay if fault is not None and kind == "slow" else 0.0,
            ),
        )

    # --- pages ---

    def _page(self) -> tuple[Fault | None, str | None, "_Response"]:
        """The fault chosen for this page request, and the answer."""
        replay = self.server.replay
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        title_match = TITLE_PATH.match(split.path)
        is_search = split.path in SEARCH_PATHS
        ids = [title_match.group(1)] if title_match else []
        fault = replay._faults.choose(self.path, "search" if is_search else "title", ids)
        if (response := self._http_fault(fault)) is not None:
            return fault, None, response
        kind = fault.kind if fault else None

        day = replay.today()
        now = datetime.now(UTC)
        if replay.day is not None:
            now = datetime.combine(day, now.timetz())
        if is_search:
            status, body = self._search(query, day, now, kind)
        elif title_match:
            status, body = self._title(title_match.group(1), day, now, kind)
        else:
            status, body = 404, pages.not_found_page()
        return (
            fault,
            None,
            _Response(
                status,
                body,
                PLAIN if status == 400 else HTML,
                truncate=kind == "truncated",
                delay=fault.delay if fault is not None and kind == "slow" else 0.0,
            ),
        )

    def _search(self, query: dict, day: date, now: datetime, fault: str | None) -> tuple[int, str]:
        slug = query.get("genres", "")
        if not slug:
            return 400, "replay: the search needs a genres=<slug> parameter, e.g. genres=sci-fi\n"
        if "," in slug:
            return 400, f"replay: one genre per search, not {slug!r}\n"
        if slug not in GENRE_BY_SLUG:
            known = ", ".join(GENRE_BY_SLUG)
            return 400, f"replay: unknown genre {slug!r}; known genres: {known}\n"
        replay = self.server.replay
        drop_genre = fault == "dropped-filter"
        if fault == "layout":
            data = pages.search_data(replay.catalogue, slug, day, query, now=now)
            return 200, pages.layout_changed_page(data, title="Advanced title search")
        pretty = pages.page_choices(self.path, replay.seed).pretty
        page = pages.search_page(
            replay.catalogue, slug, day, query, pretty=pretty, drop_genre=drop_genre, now=now
        )
        return 200, page

    def _title(self, title_id: str, day: date, now: datetime, fault: str | None) -> tuple[int, str]:
        replay = self.server.replay
        pretty, credits_shape, genres_shape = pages.page_choices(self.path, replay.seed)
        try:
            if fault == "layout":
                data = pages.title_data(replay.catalogue, title_id, day, now=now)
                return 200, pages.layout_changed_page(data, title=title_id)
            page = pages.title_page(
                replay.catalogue,
                title_id,
                day,
                credits_shape=credits_shape,
                genres_shape=genres_shape,
                pretty=pretty,
                now=now,
            )
        except pages.TitleUnavailable as gone:
            return gone.status, pages.not_found_page()
        return 200, page

    # --- control endpoints ---

    def _control(self, method: str) -> None:
        replay = self.server.replay
        action = urlsplit(self.path).path.removeprefix(CONTROL_PREFIX).strip("/")
        answer: list | dict
        try:
            body = self._json_body() if method == "POST" else None
            if (method, action) == ("GET", "requests"):
                answer = [asdict(record) for record in replay.requests]
            elif action == "faults":
                if method == "POST":
                    if not isinstance(body, list) or not all(isinstance(s, str) for s in body):
                        raise ValueError('POST a JSON list of fault specs, e.g. ["429:rate=0.5"]')
                    replay.set_faults([parse_fault(spec) for spec in body])
                answer = {"faults": [str(fault) for fault in replay.faults]}
            elif action == "day":
                if method == "POST":
                    value = body.get("day") if isinstance(body, dict) else body
                    replay.set_day(None if value is None else date.fromisoformat(value))
                answer = {"day": replay.day and replay.day.isoformat()}
            elif (method, action) == ("POST", "reset"):
                replay.reset()
                answer = {"reset": True}
            else:
                self._send_json(404, {"error": f"no control endpoint {method} {self.path}"})
                return
        except (ValueError, TypeError) as error:
            self._send_json(400, {"error": str(error)})
            return
        self._send_json(200, answer)

    def _json_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"null"
        try:
            return json.loads(raw or b"null")
        except json.JSONDecodeError as error:
            raise ValueError(f"the body is not JSON: {error}") from None

    # --- writing ---

    def _send_json(self, status: int, value) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False), "application/json")

    def _send(
        self,
        status: int,
        body: str,
        content_type: str = HTML,
        *,
        headers: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> int:
        """Send a whole response; `truncate` announces the whole body, sends about half of
        it and closes the connection."""
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(data)
        return status
