"""The replay's injectable faults: what each does, and where and when it strikes.

A fault spec is `KIND[:key=value[,key=value…]]` with keys `path` (a prefix of what it applies
to: a page's path and query, or `/graphql/<operation name>`), `rate` (0–1, decided
deterministically per request, so runs repeat), `times`, `seconds`, `max` and `id` (it strikes
only requests about more than `max` titles, or about the title `id`: the ids of a GraphQL
`titles` request, the title of a page) and `field` (the `Title` field a `drift` removes).
"""

import hashlib
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

# Faults that change a GraphQL answer's content (the others replace the whole HTTP answer).
ANSWER_FAULTS = (
    "rate-exceeded", "partial", "null-title", "drift", "empty-list", "short-list", "dropped-filter",
)  # fmt: skip
FAULT_KINDS = (
    "413",
    "429",
    "503",
    "504",
    "batch-504",
    "slow",
    "truncated",
    "challenge",
    "layout",
    "dropped-filter",
    "redirect-away",
    "404",
    "410",
    *ANSWER_FAULTS,
)
# What each fault can apply to (any request when not named): a page (`search`, `title`) or a
# GraphQL operation (`GenreList`, `TitleDetails`).
FAULT_TARGETS = {
    "layout": {"search", "title"},
    "dropped-filter": {"search", "GenreList"},
    "404": {"search", "title"},
    "410": {"search", "title"},
    "rate-exceeded": {"GenreList", "TitleDetails"},
    "partial": {"GenreList", "TitleDetails"},
    "drift": {"GenreList", "TitleDetails"},
    "null-title": {"TitleDetails"},
    "batch-504": {"TitleDetails"},
    "empty-list": {"GenreList"},
    "short-list": {"GenreList"},
}
FAULT_KEYS = ("path", "rate", "times", "seconds", "max", "id", "field")
DRIFTED_FIELD = "titleText"  # the field a `drift` without `field` removes
DEFAULT_SECONDS = {"429": 1.0, "slow": 30.0}


@dataclass(frozen=True)
class Fault:
    """One injected fault: `kind` on requests whose path and query start with `path`, each
    with probability `rate`, at most `times` times (no limit when None)."""

    kind: str
    path: str = "/"
    rate: float = 1.0
    times: int | None = None
    seconds: float | None = None  # Retry-After of 429, the delay of slow; others ignore it
    max: int | None = None  # strikes only requests about more titles than this
    id: str | None = None  # strikes only requests about this title
    field: str | None = None  # drift: the `Title` field IMDb no longer has (else titleText)

    @property
    def delay(self) -> float:
        return self.seconds if self.seconds is not None else DEFAULT_SECONDS.get(self.kind, 0.0)

    @property
    def drifted_field(self) -> str:
        return self.field or DRIFTED_FIELD

    def strikes(self, ids: Sequence[str]) -> bool:
        """Whether a request about the titles `ids` is one this fault is limited to."""
        return (self.max is None or len(ids) > self.max) and (self.id is None or self.id in ids)

    def __str__(self) -> str:
        options = [f"path={self.path}"] if self.path != "/" else []
        options += [f"rate={self.rate:g}"] if self.rate != 1.0 else []
        options += [f"times={self.times}"] if self.times is not None else []
        options += [f"seconds={self.seconds:g}"] if self.seconds is not None else []
        options += [f"max={self.max}"] if self.max is not None else []
        options += [f"id={self.id}"] if self.id is not None else []
        options += [f"field={self.field}"] if self.field is not None else []
        return self.kind + (":" + ",".join(options) if options else "")


def parse_fault(spec: str) -> Fault:
    """A fault from its spec: `KIND[:key=value[,key=value…]]`, keys path, rate, times, seconds,
    max, id, field. E.g. `429:path=/search/,rate=0.5,seconds=2`, `batch-504:max=60`,
    `drift:field=principalCredits`. ValueError says what is wrong."""
    kind, _, options = spec.strip().partition(":")
    if kind not in FAULT_KINDS:
        raise ValueError(
            f"unknown fault kind {kind!r} in {spec!r}; expected one of {', '.join(FAULT_KINDS)}"
        )
    values: dict[str, str] = {}
    # A path may hold commas (sort=popularity,asc): split only before the next known key.
    for option in re.split(rf",(?=(?:{'|'.join(FAULT_KEYS)})=)", options) if options else ():
        key, equals, value = option.partition("=")
        if not equals:
            raise ValueError(f"fault option {option!r} in {spec!r} is not key=value")
        if key not in FAULT_KEYS:
            raise ValueError(
                f"unknown fault option {key!r} in {spec!r}; expected {', '.join(FAULT_KEYS)}"
            )
        if key in values:
            raise ValueError(f"fault option {key!r} given twice in {spec!r}")
        values[key] = value
    try:
        fault = Fault(
            kind=kind,
            path=values.get("path", "/"),
            rate=float(values.get("rate", 1.0)),
            times=int(values["times"]) if "times" in values else None,
            seconds=float(values["seconds"]) if "seconds" in values else None,
            max=int(values["max"]) if "max" in values else None,
            id=values.get("id"),
            field=values.get("field"),
        )
    except ValueError as error:
        raise ValueError(f"bad fault option value in {spec!r}: {error}") from None
    if not fault.path.startswith("/"):
        raise ValueError(f"fault path must start with '/' in {spec!r}")
    if not 0.0 <= fault.rate <= 1.0:
        raise ValueError(f"fault rate must be between 0 and 1 in {spec!r}")
    if fault.times is not None and fault.times < 0:
        raise ValueError(f"fault times must not be negative in {spec!r}")
    if fault.seconds is not None and fault.seconds < 0:
        raise ValueError(f"fault seconds must not be negative in {spec!r}")
    if fault.max is not None and fault.max < 0:
        raise ValueError(f"fault max must not be negative in {spec!r}")
    if fault.field is not None:
        from imdb_warehouse.replay.graphql import drifted_schema

        if kind != "drift" or not fault.field.isidentifier():
            raise ValueError(f"fault field takes a field name, and only for drift, in {spec!r}")
        try:
            drifted_schema(fault.field)
        except ValueError as error:
            raise ValueError(f"{error}, in {spec!r}") from None
    return fault


class Faults:
    """The active faults and what they need to decide deterministically: how many requests
    each path has had, and how often each fault has been applied."""

    def __init__(self, faults: Sequence[Fault | str], seed: int) -> None:
        self.seed = seed
        self.faults = [
            fault if isinstance(fault, Fault) else parse_fault(fault) for fault in faults
        ]
        self.applied = [0] * len(self.faults)
        self.requests_to: defaultdict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def choose(self, target: str, what: str, ids: Sequence[str] = ()) -> Fault | None:
        """The fault to apply to this request to `target` (a page's path and query, or
        `/graphql/<operation>`), if any; `what` is `search`, `title` or the operation, `ids`
        the titles it is about."""
        with self.lock:
            nth = self.requests_to[target]
            self.requests_to[target] += 1
            for index, fault in enumerate(self.faults):
                if not target.startswith(fault.path):
                    continue
                if what not in FAULT_TARGETS.get(fault.kind, {what}) or not fault.strikes(ids):
                    continue
                if fault.times is not None and self.applied[index] >= fault.times:
                    continue
                if fault.rate < 1.0 and self._chance(fault, target, nth) >= fault.rate:
                    continue
                self.applied[index] += 1
                return fault
        return None

    def _chance(self, fault: Fault, target: str, nth: int) -> float:
        key = f"{self.seed}|{fault.kind}|{target}|{nth}".encode()
        digest = hashlib.blake2b(key, digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64
