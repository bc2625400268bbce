"""A deterministic synthetic IMDb movie catalogue: the offline stand-in for imdb.com's data.

Everything follows from the seed. Movies that debuted before 2024 form the back catalogue;
from 2024-01-01 a few new movies debut every day. Ratings, votes and popularity are functions
of the day, so any day can be asked for in any order and always gives the same answer.
What only title pages show (credits, countries, money) is derived lazily per movie.
"""

import math
import random
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import NamedTuple

from imdb_warehouse.imdb.genres import MOVIE_GENRES

STREAM_START = date(2024, 1, 1)
STREAM_END = date(2030, 12, 31)
FILM_NOIR_START = date(2024, 2, 1)
BACK_CATALOGUE_SIZE = 6000
PEOPLE_SIZE = 4000
SEARCH_CACHE_SIZE = 256
SCORES_CACHE_SIZE = 32
STREAM_FIRST_ID = 30_000_000
STREAM_IDS_PER_YEAR = 3_000_000  # each year's ids stay below the next year's
BOOST_DAYS = 760  # popularity boosts end within this many days of debut or release


@dataclass(frozen=True, slots=True)
class Label:
    """A coded value with its display text: a country (`US`) or a language (`en`)."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    female: bool


@dataclass(frozen=True, slots=True)
class CastCredit:
    person: Person
    character: str


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str


class Movie(NamedTuple):
    """What the search page needs about a movie, fixed for all days. (A named tuple: there are
    thousands, and they are made much faster than frozen dataclasses.) `ordinal` is its place in
    the catalogue, the index of its score."""

    ordinal: int
    title_id: str
    title: str
    original_title: str
    release_year: int | None
    release_date: date | None
    runtime_seconds: int | None
    certificate: str | None
    plot: str | None
    genres: tuple[str, ...]
    primary_language: str
    languages: tuple[Label, ...] | None  # None: IMDb does not know
    language_ids: frozenset[str]
    debut: date
    removed_on: date | None
    removed_status: int  # 404 or 410 once removed
    unreleased: bool
    metascore: int | None
    base_rating: float
    base_votes: float
    votes_per_day: float
    base_popularity: float  # log scale
    key: int  # hashing key for the daily noise

    def present_on(self, day: date) -> bool:
        """Debuted on or before `day` and not removed by then."""
        return self.debut <= day and (self.removed_on is None or day < self.removed_on)


@dataclass(frozen=True, slots=True)
class MovieDetails:
    """What only the title page shows. Unreleased movies have empty credit lists whose totals
    are still positive (IMDb knows there are credits, not who)."""

    countries: tuple[Label, ...]
    directors: tuple[Person, ...]
    writers: tuple[Person, ...]
    cast: tuple[CastCredit, ...]  # billing order; the first three are the stars
    total_directors: int
    total_writers: int
    total_cast: int
    budget: Money | None
    final_worldwide_gross: int | None  # USD, reached some months after release
    final_domestic_gross: int | None
    final_opening_weekend_gross: int | None

    @property
    def stars(self) -> tuple[Person, ...]:
        return tuple(credit.person for credit in self.cast[:3])


@dataclass(frozen=True, slots=True)
class BoxOffice:
    """Grosses in USD known on a day; each part may be unknown on its own."""

    worldwide: Money | None
    domestic: Money | None  # US & Canada lifetime
    opening_weekend: Money | None
    weekend_end: date | None


@dataclass(frozen=True, slots=True)
class MovieDay:
    """A movie as it stands on a day."""

    movie: Movie
    day: date
    rating: float | None  # one decimal, 1.0–10.0; None when unrated
    votes: int
    popularity: float

    @property
    def title_id(self) -> str:
        return self.movie.title_id


@dataclass(frozen=True, slots=True)
class TitleLookup:
    """A title page's answer: `status` 200 with the movie, or 404 / 410 without it."""

    status: int
    reason: str  # "ok", "unknown" or "removed"
    movie_day: MovieDay | None = None
    details: MovieDetails | None = None
    box_office: BoxOffice | None = None


class Catalogue:
    """The synthetic IMDb: ~6,000 back-catalogue movies plus 2–6 new ones a day from 2024.

    Safe to share between threads: movies are only ever appended, and the caches hold values
    that depend on nothing but the seed and the day.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        rng = random.Random(seed)
        self.people = _make_people(rng)
        self._people_weights = list(accumulate(1.0 / (rank + 8) for rank in range(PEOPLE_SIZE)))
        self._movies: list[Movie] = []
        self._by_id: dict[str, Movie] = {}
        # Movies are made in debut order: the movies debuted by a day are a prefix of each pool.
        self._pools: dict[tuple[str | None, bool], list[Movie]] = {
            (genre, english): [] for genre in (None, *MOVIE_GENRES) for english in (False, True)
        }
        self._pool_debuts: dict[tuple[str | None, bool], list[date]] = {
            key: [] for key in self._pools
        }
        self._append(_MovieMaker(rng, first_index=0).back_catalogue())
        # Popularity boosts fall on movies new to IMDb or recently released: all the daily
        # stream, and these from the back catalogue.
        self._old_boosted = [
            movie
            for movie in self._movies
            if (_released_on(movie) or date.min) >= STREAM_START - timedelta(BOOST_DAYS)
        ]
        noir_draw = random.Random(_hash(seed, 1)).random
        noir_span = (STREAM_END - FILM_NOIR_START).days // 3  # noir debuts within ~2 years
        self._noir_days = {
            FILM_NOIR_START + timedelta(int(noir_draw() * noir_span)) for _ in range(12)
        }
        self._years_made = STREAM_START.year - 1
        self._lock = threading.RLock()  # guards making movies and filling the caches
        self._details: dict[str, MovieDetails] = {}
        self._scores: OrderedDict[date, list[float]] = OrderedDict()
        self._rankings: OrderedDict[tuple, list[Movie]] = OrderedDict()
        self._genre_totals: OrderedDict[tuple, dict[str, int]] = OrderedDict()

    @property
    def movies(self) -> tuple[Movie, ...]:
        """The movies made so far, in debut order. The daily stream is made a year at a time,
        when a day of that year is first asked about."""
        return tuple(self._movies)

    def _append(self, movies: list[Movie]) -> None:
        for movie in movies:
            self._movies.append(movie)
            self._by_id[movie.title_id] = movie
            english = "en" in movie.language_ids
            for genre in (None, *movie.genres):
                for key in ((genre, False), (genre, True)) if english else ((genre, False),):
                    self._pools[key].append(movie)
                    self._pool_debuts[key].append(movie.debut)

    def _make_through(self, day: date) -> None:
        """Make the daily stream's movies up to the end of `day`'s year."""
        year = min(day.year, STREAM_END.year)
        if year <= self._years_made:
            return
        with self._lock:
            while self._years_made < year:
                made = self._years_made + 1
                maker = _MovieMaker(random.Random(_hash(self.seed, made)), len(self._movies))
                self._append(maker.stream_year(made, self._noir_days))
                self._years_made = made

    def movie(self, title_id: str) -> Movie | None:
        """The movie with this id among those made so far (whatever its state on any day)."""
        return self._by_id.get(title_id)

    def search(
        self,
        genre_name: str | None,
        day: date,
        *,
        languages: Collection[str] | None = ("en",),
        limit: int | None = None,
    ) -> tuple[list[MovieDay], int]:
        """Feature films of `genre_name` (all genres if None) present on `day` and spoken in any
        of `languages` (any language if None), most popular first: (the first `limit` of them
        with that day's figures, the number of all matches)."""
        self._make_through(day)
        wanted = None if languages is None else frozenset(languages)
        key = (genre_name, day, wanted)
        ranking = self._rankings.get(key)
        if ranking is None:
            scores = self._day_scores(day)
            ranking = self._present(genre_name, day, wanted)
            ranking.sort(key=lambda movie: -scores[movie.ordinal])
            with self._lock:
                self._rankings[key] = ranking
                if len(self._rankings) > SEARCH_CACHE_SIZE:
                    self._rankings.popitem(last=False)
        shown = ranking if limit is None else ranking[:limit]
        return [self._movie_day(movie, day) for movie in shown], len(ranking)

    def genre_totals(
        self, day: date, *, languages: Collection[str] | None = ("en",)
    ) -> dict[str, int]:
        """Per movie genre, how many movies `search` finds on `day`."""
        self._make_through(day)
        wanted = None if languages is None else frozenset(languages)
        key = (day, wanted)
        totals = self._genre_totals.get(key)
        if totals is None:
            totals = {genre: len(self._present(genre, day, wanted)) for genre in MOVIE_GENRES}
            with self._lock:
                self._genre_totals[key] = totals
                if len(self._genre_totals) > SEARCH_CACHE_SIZE:
                    self._genre_totals.popitem(last=False)
        return totals

    def debuts_on(self, day: date) -> list[Movie]:
        """The movies that debut on `day` (in the search from that day on)."""
        self._make_through(day)
        debuts = self._pool_debuts[None, False]
        start, end = bisect_right(debuts, day - timedelta(1)), bisect_right(debuts, day)
        return self._movies[start:end]

    def title(self, title_id: str, day: date) -> TitleLookup:
        """The title page's view of `title_id` on `day`."""
        self._make_through(day)
        movie = self._by_id.get(title_id)
        if movie is None or day < movie.debut:
            return TitleLookup(404, "unknown")
        if movie.removed_on is not None and day >= movie.removed_on:
            return TitleLookup(movie.removed_status, "removed")
        details = self.details(movie)
        return TitleLookup(
            200, "ok", self._movie_day(movie, day), details, _box_office(movie, details, day)
        )

    def details(self, movie: Movie) -> MovieDetails:
        """The movie's credits, countries and money (derived once, then remembered)."""
        details = self._details.get(movie.title_id)
        if details is None:
            rng = random.Random(f"{self.seed}/{movie.title_id}")
            details = _make_details(rng, movie, self.people, self._people_weights)
            self._details[movie.title_id] = details
        return details

    def _present(
        self, genre_name: str | None, day: date, languages: frozenset[str] | None
    ) -> list[Movie]:
        english_only = languages == frozenset({"en"})
        pool = self._pools.get((genre_name, english_only), [])
        debuted = pool[: bisect_right(self._pool_debuts.get((genre_name, english_only), []), day)]
        return [
            movie
            for movie in debuted
            if (movie.removed_on is None or day < movie.removed_on)
            and (english_only or languages is None or not languages.isdisjoint(movie.language_ids))
        ]

    def _movie_day(self, movie: Movie, day: date) -> MovieDay:
        popularity = self._day_scores(day)[movie.ordinal]
        return MovieDay(movie, day, _rating(movie, day), _votes(movie, day), popularity)

    def _day_scores(self, day: date) -> list[float]:
        """Every movie's popularity on `day` (meaningful for the movies present that day)."""
        scores = self._scores.get(day)
        if scores is None:
            draw = random.Random(_hash(self.seed, day.toordinal())).random
            # The sum of three uniforms is a cheap, roughly normal daily jitter.
            scores = [
                movie.base_popularity + 0.5 * (draw() + draw() + draw() - 1.5)
                for movie in self._movies
            ]
            debuts = self._pool_debuts[None, False]
            recent = self._movies[
                bisect_right(debuts, day - timedelta(BOOST_DAYS)) : bisect_right(debuts, day)
            ]
            for movie in (*self._old_boosted, *recent):
                scores[movie.ordinal] += _boost(movie, day)
            with self._lock:
                self._scores[day] = scores
                if len(self._scores) > SCORES_CACHE_SIZE:
                    self._scores.popitem(last=False)
        return scores


# --- the daily model -------------------------------------------------------------------------

_MASK = (1 << 64) - 1


def _hash(*parts: int) -> int:
    """A 64-bit hash of integers, stable across processes and Python versions (splitmix64)."""
    h = 0
    for part in parts:
        h = (h ^ (part & _MASK)) + 0x9E3779B97F4A7C15 & _MASK
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 31
    return h


def _signed_unit(*parts: int) -> float:
    return _hash(*parts) / 2**63 - 1.0


def _released_on(movie: Movie) -> date | None:
    if movie.unreleased:
        return None
    if movie.release_date is not None:
        return movie.release_date
    return date(movie.release_year, 1, 1) if movie.release_year else None


def _boost(movie: Movie, day: date) -> float:
    """Extra log-popularity for movies new to IMDb or recently released."""
    boost = 0.0
    age = (day - movie.debut).days
    if movie.debut >= STREAM_START and 0 <= age < 365:
        boost += 3.0 * math.exp(-age / 45)
    released = _released_on(movie)
    since_release = None if released is None else (day - released).days
    if since_release is not None and 0 <= since_release < 730:
        boost += 1.5 * math.exp(-since_release / 120)
    return boost


def _rating(movie: Movie, day: date) -> float | None:
    """The rating drifts smoothly (value noise with a knot every 9 days), more while new."""
    if movie.unreleased:
        return None
    ordinal = day.toordinal()
    knot, offset = divmod(ordinal, 9)
    before = _signed_unit(movie.key, knot)
    after = _signed_unit(movie.key, knot + 1)
    drift = before + (after - before) * offset / 9
    age = max(0, (day - movie.debut).days)
    swing = 0.25 + 0.8 * math.exp(-age / 60)
    return round(min(10.0, max(1.0, movie.base_rating + swing * drift)), 1)


def _votes(movie: Movie, day: date) -> int:
    """Votes grow with time and never decrease: a rush after debut, then a steady trickle."""
    if movie.unreleased:
        return 0
    age = (day - movie.debut).days
    if age < 0:
        return 0
    if movie.debut < STREAM_START:
        return int(movie.base_votes + movie.votes_per_day * age)
    return int(5 + movie.base_votes * (1 - math.exp(-(age + 1) / 50)) + movie.votes_per_day * age)


def _grown(final: int | None, days: int) -> Money | None:
    if final is None:
        return None
    return Money(int(final * (1 - math.exp(-(days + 3) / 25))), "USD")


def _box_office(movie: Movie, details: MovieDetails, day: date) -> BoxOffice:
    """Grosses known on `day`: nothing before release, then growing towards the final sums."""
    released = _released_on(movie)
    if released is None or day < released:
        return BoxOffice(None, None, None, None)
    days = (day - released).days
    weekend_end = released + timedelta(days=(6 - released.weekday()) % 7 or 7)
    opening = None
    if details.final_opening_weekend_gross is not None and day > weekend_end:
        opening = Money(details.final_opening_weekend_gross, "USD")
    return BoxOffice(
        _grown(details.final_worldwide_gross, days),
        _grown(details.final_domestic_gross, days),
        opening,
        weekend_end if opening else None,
    )


# --- making movies ---------------------------------------------------------------------------

GENRE_WEIGHTS = {
    "Drama": 40, "Comedy": 28, "Action": 18, "Thriller": 18, "Crime": 14, "Romance": 13,
    "Horror": 12, "Adventure": 11, "Mystery": 8, "Sci-Fi": 7, "Fantasy": 7, "Family": 5,
    "Documentary": 5, "Animation": 4, "Biography": 4, "History": 3, "Music": 3, "War": 2.5,
    "Sport": 2.5, "Musical": 1.5, "Western": 1.5,
}  # fmt: skip
assert set(GENRE_WEIGHTS) | {"Film-Noir"} == set(MOVIE_GENRES)

LANGUAGES = {
    "en": "English", "fr": "French", "es": "Spanish", "de": "German", "ja": "Japanese",
    "ko": "Korean", "ru": "Russian", "hi": "Hindi", "it": "Italian", "cmn": "Mandarin",
    "sv": "Swedish",
}  # fmt: skip
FOREIGN_LANGUAGE_WEIGHTS = {
    "fr": 3, "es": 3, "de": 2, "ja": 2, "ko": 2, "ru": 1, "hi": 2, "it": 1, "cmn": 1, "sv": 1,
}  # fmt: skip

COUNTRIES = {
    "US": "United States", "GB": "United Kingdom", "CA": "Canada", "AU": "Australia",
    "NZ": "New Zealand", "IE": "Ireland", "IN": "India", "FR": "France", "ES": "Spain",
    "MX": "Mexico", "AR": "Argentina", "DE": "Germany", "AT": "Austria", "JP": "Japan",
    "KR": "South Korea", "RU": "Russia", "IT": "Italy", "CN": "China", "SE": "Sweden",
    "BE": "Belgium", "NL": "Netherlands", "DK": "Denmark", "NO": "Norway",
}  # fmt: skip
HOME_COUNTRIES = {
    "en": {"US": 60, "GB": 18, "CA": 7, "AU": 7, "NZ": 3, "IE": 3, "IN": 2},
    "fr": {"FR": 8, "BE": 1}, "es": {"ES": 5, "MX": 3, "AR": 2}, "de": {"DE": 5, "AT": 1},
    "ja": {"JP": 1}, "ko": {"KR": 1}, "ru": {"RU": 1}, "hi": {"IN": 1}, "it": {"IT": 1},
    "cmn": {"CN": 1}, "sv": {"SE": 1},
}  # fmt: skip
CURRENCIES = {
    "US": "USD", "GB": "GBP", "FR": "EUR", "DE": "EUR", "ES": "EUR", "IT": "EUR", "AT": "EUR",
    "IE": "EUR", "BE": "EUR", "NL": "EUR", "JP": "JPY", "NZ": "NZD", "IN": "INR", "CA": "CAD",
    "AU": "AUD",
}  # fmt: skip
USD_RATES = {
    "USD": 1, "GBP": 0.8, "EUR": 0.9, "JPY": 140, "NZD": 1.6, "INR": 80, "CAD": 1.35, "AUD": 1.5,
}  # fmt: skip

CERTIFICATES = {
    "R": 30, "PG-13": 28, "PG": 12, "Not Rated": 12, "TV-MA": 5, "Unrated": 4, "G": 3,
    "TV-14": 3, "NC-17": 1,
}  # fmt: skip
OLD_CERTIFICATES = {"Approved": 5, "Passed": 3, "Not Rated": 3, "G": 1}

ADJECTIVES = (
    "Silent", "Last", "Broken", "Hidden", "Golden", "Crimson", "Lost", "Final", "Endless",
    "Dark", "Wild", "Quiet", "Electric", "Hollow", "Burning", "Frozen", "Distant", "Secret",
    "Savage", "Little", "Midnight", "Bitter", "Velvet", "Iron", "Paper", "Glass", "Northern",
    "Restless", "Forgotten", "Sweet", "Sudden", "Long", "Perfect", "Red", "Blue", "Violent",
)  # fmt: skip
NOUNS = (
    "River", "Empire", "Garden", "Signal", "Harbor", "Witness", "Kingdom", "Summer", "Shadow",
    "Station", "Horizon", "Promise", "Frontier", "Letter", "Machine", "Orchard", "Island",
    "Storm", "Memory", "Voyage", "Ghost", "Heart", "Road", "City", "Winter", "Mirror", "Hunter",
    "Crown", "Country", "House", "Game", "Night", "Fire", "Line", "Sky", "Tide", "Room", "Wolf",
)  # fmt: skip
# Foreign-language title words with their English renderings.
FOREIGN_WORDS = {
    "fr": (("La Rivière", "The River"), ("Le Château", "The Castle"), ("L'Étoile", "The Star"),
           ("La Mémoire", "The Memory"), ("Le Jardin", "The Garden"), ("L'Été", "The Summer"),
           ("La Forêt", "The Forest"), ("Le Fantôme", "The Ghost")),
    "es": (("El Río", "The River"), ("La Canción", "The Song"), ("El Niño", "The Boy"),
           ("La Montaña", "The Mountain"), ("El Corazón", "The Heart"), ("La Señora", "The Lady")),
    "de": (("Der Fluss", "The River"), ("Die Straße", "The Street"), ("Das Mädchen", "The Girl"),
           ("Der König", "The King"), ("Die Brücke", "The Bridge"), ("Das Schweigen", "Silence")),
    "ja": (("川", "River"), ("夏の終わり", "End of Summer"), ("約束", "Promise"), ("影", "Shadow"),
           ("東京の夜", "Tokyo Night"), ("海", "Sea")),
    "ko": (("기억", "Memory"), ("바다", "Sea"), ("서울의 밤", "Seoul Night"), ("약속", "Promise")),
    "ru": (("Река", "The River"), ("Зима", "Winter"), ("Москва", "Moscow"), ("Звезда", "The Star"),
           ("Последний поезд", "The Last Train")),
    "hi": (("Dil", "Heart"), ("Safar", "Journey"), ("Raaste", "Roads"), ("Zindagi", "Life")),
    "it": (("Il Fiume", "The River"), ("La Città", "The City"), ("L'Estate", "Summer"),
           ("Il Silenzio", "Silence")),
    "cmn": (("长江", "The Long River"), ("夜色", "Night"), ("归途", "The Way Home")),
    "sv": (("Sjön", "The Lake"), ("Vintern", "Winter"), ("Fjällen", "The Mountains"),
           ("Ön", "The Island")),
}  # fmt: skip
CONJUNCTIONS = {
    "fr": "et", "es": "y", "de": "und", "ja": "と", "ko": "와", "ru": "и", "hi": "aur", "it": "e",
    "cmn": "与", "sv": "och",
}  # fmt: skip

PLOT_SUBJECTS = (
    "A retired detective", "Two estranged sisters", "A young nurse", "An ambitious chef",
    "A small-town sheriff", "A grieving widower", "A teenage hacker", "A disgraced boxer",
    "An aging rock star", "A team of astronauts", "A shy librarian", "A con artist",
    "A single mother", "A rookie cop", "A reclusive painter", "Three old friends",
)  # fmt: skip
PLOT_VERBS = (
    "must confront", "is drawn into", "sets out to expose", "struggles to escape",
    "stumbles upon", "races to stop", "tries to rebuild", "discovers", "falls for", "hunts down",
)  # fmt: skip
PLOT_OBJECTS = (
    "a conspiracy that reaches the highest levels of power", "a family secret buried for decades",
    "a dangerous stranger", "the ghosts of a forgotten war", "an impossible heist",
    "a deadly virus", "a love they thought was lost", "a cult hiding in plain sight",
    "the truth about their past", "a rival with nothing to lose",
)  # fmt: skip
PLOT_PLACES = (
    " in post-war Vienna", " on a remote island", " in 1970s New York", " in a near-future Tokyo",
    " across the Scottish Highlands", " during one long night in Lagos", " in a seaside town",
    " in the Australian outback", " aboard a failing space station", " on the streets of Mumbai",
    "",
)  # fmt: skip


class _Weights:
    """A weighted choice table, for drawing quickly and often."""

    def __init__(self, weights: dict) -> None:
        self.values = tuple(weights)
        self.cumulative = tuple(accumulate(weights.values()))
        self.total = self.cumulative[-1]


class _Draw:
    """Fast draws from one random stream (the stdlib's `choice` and `choices` are slow in bulk)."""

    def __init__(self, rng: random.Random) -> None:
        self.random = rng.random
        self.gauss = rng.gauss
        self.getrandbits = rng.getrandbits

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def pick(self, items: Sequence):
        return items[int(self.random() * len(items))]

    def weighted(self, table: _Weights):
        return table.values[bisect_right(table.cumulative, self.random() * table.total)]


GENRE_TABLE = _Weights(GENRE_WEIGHTS)
GENRE_COUNT_TABLE = _Weights({1: 30, 2: 40, 3: 30})
FOREIGN_LANGUAGE_TABLE = _Weights(FOREIGN_LANGUAGE_WEIGHTS)
CERTIFICATE_TABLE = _Weights(CERTIFICATES)
OLD_CERTIFICATE_TABLE = _Weights(OLD_CERTIFICATES)
LANGUAGE_LABELS = {code: Label(code, text) for code, text in LANGUAGES.items()}
NOIR_PARTNERS = ("Crime", "Drama", "Mystery", "Thriller")
SEQUELS = ("2", "II", "Part III", "3")


class _MovieMaker:
    """Draws the fixed facts of a batch of movies, in debut order, from one random stream."""

    def __init__(self, rng: random.Random, first_index: int) -> None:
        self.draw = _Draw(rng)
        self.first_index = first_index
        self.used_ids: set[int] = set()
        self.movies: list[Movie] = []

    def back_catalogue(self) -> list[Movie]:
        """The movies that debuted before 2024."""
        dated = sorted(
            (self._back_catalogue_dates() for _ in range(BACK_CATALOGUE_SIZE)),
            key=lambda dates: dates[3],
        )
        for number, year, release_date, debut, unreleased, removed_on in dated:
            self._add(number, year, release_date, debut, unreleased, removed_on)
        return self.movies

    def stream_year(self, year: int, noir_days: Collection[date]) -> list[Movie]:
        """The 2–6 movies a day that debut in `year`, with ids above all earlier years'."""
        draw = self.draw
        number = STREAM_FIRST_ID + (year - STREAM_START.year) * STREAM_IDS_PER_YEAR
        day = date(year, 1, 1)
        while day.year == year:
            for position in range(2 + draw.below(5)):
                number += 1 + draw.below(1500)
                noir = position == 0 and day in noir_days
                self._add(number, *self._stream_dates(day, noir), noir=noir)
            day += timedelta(1)
        return self.movies

    def _back_catalogue_dates(
        self,
    ) -> tuple[int, int | None, date | None, date, bool, date | None]:
        draw = self.draw
        unreleased = draw.random() < 0.02
        if unreleased:
            year = draw.pick((2025, 2026, 2027, None))
            release_date = None
            debut = date(2021, 1, 1) + timedelta(draw.below(1095))
        else:
            year = max(1920, 2023 - int(abs(draw.gauss(0, 20))))
            release_date = date(year, 1, 1) + timedelta(draw.below(365))
            release_date = min(release_date, date(2023, 12, 31))
            debut = min(release_date - timedelta(30 + draw.below(670)), date(2023, 12, 31))
            if draw.random() < 0.08:
                release_date = None
        removed_on = None
        if draw.random() < 0.01:
            removed_on = STREAM_START + timedelta(14 + draw.below(1460))
        return self._new_old_id(year), year, release_date, debut, unreleased, removed_on

    def _new_old_id(self, year: int | None) -> int:
        draw = self.draw
        while True:
            if year is not None and year >= 2017 and draw.random() < 0.3:
                number = 10_000_000 + draw.below(19_000_000)
            else:
                number = 1 + draw.below(9_999_999)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def _stream_dates(
        self, day: date, noir: bool
    ) -> tuple[int | None, date | None, date, bool, date | None]:
        draw = self.draw
        unreleased = not noir and draw.random() < 0.02
        if unreleased:
            year = draw.pick((day.year + 1, day.year + 2, None))
            release_date = None
        else:
            release_date = day - timedelta(draw.below(21))
            year = release_date.year
            if draw.random() < 0.08:
                release_date = None
        removed_on = None
        if not noir and draw.random() < 0.01:
            removed_on = day + timedelta(5 + draw.below(500))
        return year, release_date, day, unreleased, removed_on

    def _add(
        self,
        number: int,
        year: int | None,
        release_date: date | None,
        debut: date,
        unreleased: bool,
        removed_on: date | None,
        noir: bool = False,
    ) -> None:
        draw = self.draw
        english = noir or draw.random() < 0.85
        language = "en" if english else draw.weighted(FOREIGN_LANGUAGE_TABLE)
        languages = self._languages(language) if noir or draw.random() >= 0.01 else None
        title, original_title = self._titles(language, languages)
        genres = ("Film-Noir", draw.pick(NOIR_PARTNERS)) if noir else self._genres()
        rating = min(9.6, max(1.2, draw.gauss(6.3, 1.0)))
        popularity = draw.gauss(0, 1.3)
        if debut >= STREAM_START:
            votes = math.exp(draw.gauss(8.3, 1.6) + 0.5 * popularity)
            votes_per_day = votes / (300 + 2700 * draw.random())
        else:
            votes = math.exp(draw.gauss(8.0, 1.9) + 0.6 * popularity)
            votes_per_day = votes * (0.00005 + 0.00035 * draw.random())
        runtime = None
        if draw.random() >= (0.3 if unreleased else 0.05):
            runtime = 60 * int(min(210, max(62, draw.gauss(105, 18))))
        certificate = None
        if not unreleased and draw.random() >= 0.1:
            old = year is not None and year < 1968
            certificate = draw.weighted(OLD_CERTIFICATE_TABLE if old else CERTIFICATE_TABLE)
        metascore = None
        if not unreleased and draw.random() >= 0.3:
            metascore = int(min(100, max(1, round(rating * 10 - 8 + draw.gauss(0, 12)))))
        self.movies.append(
            Movie(
                ordinal=self.first_index + len(self.movies),
                title_id=f"tt{number:07d}",
                title=title,
                original_title=original_title,
                release_year=year,
                release_date=release_date,
                runtime_seconds=runtime,
                certificate=certificate,
                plot=None if draw.random() < 0.03 else self._plot(),
                genres=tuple(sorted(genres)),
                primary_language=language,
                languages=languages,
                language_ids=frozenset(label.id for label in languages or ()),
                debut=debut,
                removed_on=removed_on,
                removed_status=404 if draw.random() < 0.5 else 410,
                unreleased=unreleased,
                metascore=metascore,
                base_rating=rating,
                base_votes=votes,
                votes_per_day=votes_per_day,
                base_popularity=popularity,
                key=draw.getrandbits(63),
            )
        )

    def _genres(self) -> set[str]:
        draw = self.draw
        wanted = draw.weighted(GENRE_COUNT_TABLE)
        chosen: set[str] = set()
        while len(chosen) < wanted:
            chosen.add(draw.weighted(GENRE_TABLE))
        return chosen

    def _languages(self, primary: str) -> tuple[Label, ...]:
        draw = self.draw
        if draw.random() >= 0.12:
            return (LANGUAGE_LABELS[primary],)
        if primary != "en" and draw.random() < 0.5:
            second = "en"
        else:
            second = draw.pick([code for code in LANGUAGES if code not in (primary, "en")])
        return LANGUAGE_LABELS[primary], LANGUAGE_LABELS[second]

    def _titles(self, primary: str, languages: tuple[Label, ...] | None) -> tuple[str, str]:
        """(display title, original title). Foreign titles are shown translated most times."""
        draw = self.draw
        foreign = primary if primary != "en" else None
        if foreign is None and languages and len(languages) > 1 and draw.random() < 0.4:
            foreign = languages[1].id
        if foreign is None:
            title = self._english_title()
            return title, title
        words = FOREIGN_WORDS[foreign]
        (first, first_en), (second, second_en) = draw.pick(words), draw.pick(words)
        if draw.random() < 0.5:
            original, english = first, first_en
        else:
            original = f"{first} {CONJUNCTIONS[foreign]} {second}"
            english = f"{first_en} and {second_en}"
        translated = draw.random() < (0.65 if primary != "en" else 0.5)
        return (english if translated else original), original

    def _english_title(self) -> str:
        draw = self.draw
        adjective, noun, other = draw.pick(ADJECTIVES), draw.pick(NOUNS), draw.pick(NOUNS)
        form = draw.below(9)
        if form == 0:
            return f"The {adjective} {noun}"
        if form == 1:
            return f"{noun} of the {other}"
        if form == 2:
            return f"{adjective} {noun}"
        if form == 3:
            return f"The {noun}"
        if form == 4:
            return f"{draw.pick(FIRST_NAMES)}'s {noun}"
        if form == 5:
            return f"Return to the {noun}"
        if form == 6:
            return f"Beyond the {noun}"
        if form == 7:
            return f"{noun}: {adjective} {other}"
        return f"{adjective} {other} {draw.pick(SEQUELS)}"

    def _plot(self) -> str:
        draw = self.draw
        return (
            f"{draw.pick(PLOT_SUBJECTS)} {draw.pick(PLOT_VERBS)} "
            f"{draw.pick(PLOT_OBJECTS)}{draw.pick(PLOT_PLACES)}."
        )


# --- people and credits ----------------------------------------------------------------------

FIRST_NAMES_F = (
    "Anna", "Maria", "Emma", "Olivia", "Sofia", "Chloé", "Zoë", "Renée", "Inés", "Léa", "Ingrid",
    "Hannah", "Grace", "Mei", "Yuki", "Aiko", "Priya", "Ananya", "Olga", "Natalia", "Greta",
    "Amélie", "Siobhán", "Małgorzata", "Ji-woo", "Fatima", "Lucía", "Camille", "Julia", "Rose",
    "Nora", "Ava", "Isla", "Freya", "Astrid", "Noémie", "Dóra",
)  # fmt: skip
FIRST_NAMES_M = (
    "James", "John", "Michael", "David", "Daniel", "Thomas", "José", "André", "François",
    "Jürgen", "Søren", "Łukasz", "Matías", "Raúl", "Joaquín", "Hiroshi", "Kenji", "Takeshi",
    "Arjun", "Rahul", "Ivan", "Dmitri", "Sergei", "Lars", "Björn", "Oskar", "Liam", "Noah",
    "Oliver", "Jack", "Samuel", "Peter", "Marco", "Luca", "Min-jun", "Wei", "Omar", "Tomás",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Brown", "Taylor", "Anderson", "Thompson", "García", "Martínez", "Núñez",
    "Müller", "Schröder", "Öztürk", "Dupont", "Lefèvre", "Moreau", "Rossi", "Bianchi",
    "Kowalski", "Wiśniewski", "Novák", "Dvořák", "Jensen", "Håkansson", "Sørensen", "Nakamura",
    "Tanaka", "Suzuki", "Kim", "Park", "Lee", "Patel", "Sharma", "Singh", "Ivanov", "Petrov",
    "O'Brien", "Murphy", "Walsh", "Campbell", "Stewart", "Reid", "Hughes", "Evans", "Wright",
    "Clarke", "Bennett", "Fischer", "Nguyễn", "Trần", "Lindqvist", "Okafor", "Mensah",
)  # fmt: skip
FIRST_NAMES = FIRST_NAMES_F + FIRST_NAMES_M
CJK_SURNAMES = ("山田", "佐藤", "鈴木", "高橋", "田中")
CJK_GIVEN = {False: ("太郎", "健", "翔"), True: ("花子", "美咲", "結衣")}
CYRILLIC_SURNAMES = ("Петров", "Соколов", "Волков", "Морозов", "Смирнов")
CYRILLIC_GIVEN = {False: ("Иван", "Дмитрий", "Сергей", "Алексей"), True: ("Ольга", "Анна", "Мария")}
CHARACTER_PREFIXES = ("", "", "", "Detective ", "Dr. ", "Captain ", "Agent ", "Mrs. ", "Uncle ")


def _make_people(rng: random.Random) -> tuple[Person, ...]:
    """The shared pool; earlier people are more popular (they get cast more often)."""
    numbers = rng.sample(range(1, 10_000_000), PEOPLE_SIZE)
    people = []
    for number in numbers:
        female = rng.random() < 0.45
        script = rng.random()
        if script < 0.04:
            name = f"{rng.choice(CJK_SURNAMES)} {rng.choice(CJK_GIVEN[female])}"
        elif script < 0.08:
            surname = rng.choice(CYRILLIC_SURNAMES) + ("а" if female else "")
            name = f"{rng.choice(CYRILLIC_GIVEN[female])} {surname}"
        else:
            first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
            name = f"{first} {rng.choice(LAST_NAMES)}"
        people.append(Person(f"nm{number:07d}", name, female))
    return tuple(people)


def _make_details(
    rng: random.Random, movie: Movie, people: Sequence[Person], weights: Sequence[float]
) -> MovieDetails:
    def draw(count: int, exclude: Collection[Person] = ()) -> tuple[Person, ...]:
        chosen: list[Person] = []
        while len(chosen) < count:
            person = rng.choices(people, cum_weights=weights)[0]
            if person not in chosen and person not in exclude:
                chosen.append(person)
        return tuple(chosen)

    countries = [rng.choices(*zip(*HOME_COUNTRIES[movie.primary_language].items(), strict=True))[0]]
    for _ in range(rng.choices((0, 1, 2), (60, 30, 10))[0]):
        country = rng.choice(tuple(COUNTRIES))
        if country not in countries:
            countries.append(country)

    directors = draw(rng.choices((1, 2), (85, 15))[0])
    writers = draw(rng.choices((1, 2, 3), (40, 40, 20))[0])
    total_cast = rng.randint(6, 60)
    cast = tuple(
        CastCredit(person, _character(rng, person)) for person in draw(min(total_cast, 18))
    )

    currency = CURRENCIES.get(countries[0], "USD")
    budget_usd = math.exp(rng.gauss(16.3, 1.4))
    budget = None
    if rng.random() < 0.55:
        budget = Money(_round_money(budget_usd * USD_RATES[currency]), currency)
    worldwide = domestic = opening = None
    if not movie.unreleased:
        if rng.random() < 0.65:
            worldwide = _round_money(budget_usd * math.exp(rng.gauss(0.2, 1.2)), digits=7)
        if rng.random() < (0.55 if countries[0] == "US" else 0.3):
            domestic = _round_money(budget_usd * math.exp(rng.gauss(-0.5, 1.1)), digits=7)
            if worldwide is not None:
                domestic = min(domestic, worldwide)
        if rng.random() < 0.45:
            opening = _round_money((domestic or budget_usd) * rng.uniform(0.1, 0.4), digits=6)
    if movie.unreleased:
        return MovieDetails(
            countries=tuple(Label(code, COUNTRIES[code]) for code in countries),
            directors=(),
            writers=(),
            cast=(),
            total_directors=len(directors),
            total_writers=len(writers),
            total_cast=total_cast,
            budget=budget,
            final_worldwide_gross=None,
            final_domestic_gross=None,
            final_opening_weekend_gross=None,
        )
    return MovieDetails(
        countries=tuple(Label(code, COUNTRIES[code]) for code in countries),
        directors=directors,
        writers=writers,
        cast=cast,
        total_directors=len(directors),
        total_writers=len(writers),
        total_cast=total_cast,
        budget=budget,
        final_worldwide_gross=worldwide,
        final_domestic_gross=domestic,
        final_opening_weekend_gross=opening,
    )


def _round_money(amount: float, digits: int = 2) -> int:
    """Budgets are round numbers (2 significant digits); grosses are nearly exact."""
    amount = max(1000.0, amount)
    scale = 10 ** max(0, int(math.log10(amount)) + 1 - digits)
    return int(round(amount / scale) * scale)


def _character(rng: random.Random, person: Person) -> str:
    if rng.random() < 0.03:
        return "Self"
    first = rng.choice(FIRST_NAMES_F if person.female else FIRST_NAMES_M)
    if rng.random() < 0.5:
        return first
    return f"{rng.choice(CHARACTER_PREFIXES)}{rng.choice(LAST_NAMES)}".strip()
