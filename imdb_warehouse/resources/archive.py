"""PageArchive: every answer IMDb sent, gzipped, so that any day can be rebuilt without IMDb.

A capture is never overwritten: each fetch is kept as a file of its own, named by its fetch
time, beside the captures before it, and the raw rows name the capture they were loaded from.

    <root>/<kind>/<YYYY-MM-DD>/<name>.<YYYYMMDDTHHMMSSZ>[-n].<html|json>.gz

Pages (`search`, `title`) are kept as IMDb sent them; a GraphQL exchange (`graphql/lists`,
`graphql/titles`) as a JSON envelope of the request (endpoint, query, variables, the headers
that matter: never a key or a signature) and the response (status, headers, body as sent; or,
when no answer came, status 0 and the `problem`: a timeout, a body cut short).
Files named without a time (`<name>.html.gz`) are the captures of earlier versions: the oldest.
"""

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from imdb_warehouse import settings
from imdb_warehouse.resources.imdb_client import Exchange

CAPTURE = re.compile(
    r"^(?P<name>.+?)(?:\.(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?)?\.(?P<ext>html|json)\.gz$"
)


@dataclass(frozen=True)
class Capture:
    content: bytes  # what IMDb sent: the page, or the GraphQL answer's body
    path: str
    sha256: str  # of `content`, not of the gzip file
    fetched_at: datetime
    envelope: dict | None = None  # a GraphQL exchange: {"request": …, "response": …}

    @property
    def status(self) -> int:
        return self.envelope["response"]["status"] if self.envelope else 200

    @property
    def request_body(self) -> dict:
        return (self.envelope or {}).get("request", {}).get("body") or {}

    def exchange(self) -> Exchange:
        """The archived GraphQL exchange, as the client returned it."""
        assert self.envelope is not None, "a page capture holds no exchange"
        request, response = self.envelope["request"], self.envelope["response"]
        return Exchange(
            url=request["url"],
            method=request["method"],
            status=response["status"],
            body=self.content,
            fetched_at=self.fetched_at,
            request_headers=request["headers"],
            response_headers=response["headers"],
            request_body=request["body"],
            attempts=response.get("attempts", 1),
            problem=response.get("problem"),
        )


def envelope(exchange: Exchange) -> dict:
    """A GraphQL exchange as the archive keeps it (the body as text, exactly as sent)."""
    try:
        body = {"body": exchange.body.decode("utf-8")}
    except UnicodeDecodeError:
        body = {"body_hex": exchange.body.hex()}
    return {
        "request": {
            "method": exchange.method,
            "url": exchange.url,
            "headers": exchange.request_headers,
            "body": exchange.request_body,
        },
        "response": {
            "status": exchange.status,
            "headers": exchange.response_headers,
            "attempts": exchange.attempts,
            **({"problem": exchange.problem} if exchange.problem else {}),
            **body,
        },
    }


def response_body(envelope: dict) -> bytes:
    response = envelope["response"]
    if "body_hex" in response:
        return bytes.fromhex(response["body_hex"])
    return response["body"].encode("utf-8")


def capture_order(path: Path) -> tuple[str, int]:
    """Sorts captures by fetch time; files without one (earlier versions') first."""
    match = CAPTURE.match(path.name)
    return (match["stamp"] or "", int(match["n"] or 1)) if match else ("", 0)


def read_capture(path: str | Path) -> Capture:
    """A capture file: a GraphQL envelope (`.json.gz`) or a page (`.html.gz`, or plain)."""
    path = Path(path)
    with gzip.GzipFile(path) as archived:
        content = archived.read()
        fetched_at = datetime.fromtimestamp(archived.mtime or 0, UTC)
    kept = None
    if path.name.endswith(".json.gz"):
        kept = json.loads(content)
        content = response_body(kept)
    return Capture(content, str(path), hashlib.sha256(content).hexdigest(), fetched_at, kept)


class PageArchive(dg.ConfigurableResource):
    """Captures under `root`, which falls back to IMDB_WAREHOUSE_ARCHIVE, then `archive/`
    under IMDB_WAREHOUSE_HOME."""

    root: str | None = None

    def resolved_root(self) -> Path:
        configured = self.root or settings.ARCHIVE.get()
        return Path(configured) if configured else settings.warehouse_home() / "archive"

    def folder(self, kind: str, day: date) -> Path:
        return self.resolved_root() / kind / day.isoformat()

    def store(self, kind: str, day: date, name: str, exchange: Exchange) -> Capture:
        """Keep a page (GET) or a GraphQL exchange (POST) as a new capture."""
        if exchange.method == "POST":
            kept = envelope(exchange)
            data, ext = json.dumps(kept, ensure_ascii=False).encode("utf-8"), "json"
        else:
            kept, data, ext = None, exchange.body, "html"
        path = self._new_file(kind, day, name, ext, data, exchange.fetched_at)
        body = exchange.body
        return Capture(body, str(path), hashlib.sha256(body).hexdigest(), exchange.fetched_at, kept)

    def _new_file(
        self, kind: str, day: date, name: str, ext: str, data: bytes, fetched_at: datetime
    ) -> Path:
        folder = self.folder(kind, day)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = fetched_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        partial = folder / f".{name}.{os.getpid()}.partial"
        # level 1: ~6 ms a page instead of ~40 ms at the default 9, for ~30% more bytes
        partial.write_bytes(gzip.compress(data, compresslevel=1, mtime=int(fetched_at.timestamp())))
        try:
            for n in range(1, 10_000):
                path = folder / f"{name}.{stamp}{f'-{n}' if n > 1 else ''}.{ext}.gz"
                try:
                    os.link(partial, path)  # fails if the name is taken: never overwrites
                    return path
                except FileExistsError:
                    continue
            raise FileExistsError(f"{folder}: no free capture name for {name} at {stamp}")
        finally:
            partial.unlink(missing_ok=True)

    def captures(self, kind: str, day: date, names: Iterable[str] | None = None) -> list[Path]:
        """The captures of `names` (all when None) on `day`, newest first."""
        folder = self.folder(kind, day)
        if not folder.is_dir():
            return []
        wanted = None if names is None else set(names)
        found = [
            path
            for path in folder.iterdir()
            if (match := CAPTURE.match(path.name)) and (wanted is None or match["name"] in wanted)
        ]
        return sorted(found, key=capture_order, reverse=True)

    def holds(self, day: date) -> bool:
        """Whether anything IMDb sent on `day` is archived."""
        root = self.resolved_root()
        folders = [*root.glob(f"*/{day.isoformat()}"), *root.glob(f"*/*/{day.isoformat()}")]
        return any(CAPTURE.match(p.name) for folder in folders for p in folder.iterdir())

    def days(self) -> list[date]:
        """The days something of which is archived, in order."""
        root = self.resolved_root()
        folders = [*root.glob("*/????-??-??"), *root.glob("*/*/????-??-??")]
        found = set()
        for folder in folders:
            try:
                day = date.fromisoformat(folder.name)
            except ValueError:
                continue
            if any(CAPTURE.match(p.name) for p in folder.iterdir()):
                found.add(day)
        return sorted(found)

    def capture_name(self, path: str | Path) -> str:
        """The name a capture file was stored under (`sci-fi`, `tt0133093.404`, …)."""
        match = CAPTURE.match(Path(path).name)
        if match is None:
            raise ValueError(f"{path} is not a capture file")
        return match["name"]
