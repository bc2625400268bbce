"""IMDb's title genres, as the search page's genre facets name them."""

IMDB_GENRES = (
    "Action", "Adventure", "Animation", "Biography", "Comedy", "Crime", "Documentary", "Drama",
    "Family", "Fantasy", "Film-Noir", "Game-Show", "History", "Horror", "Music", "Musical",
    "Mystery", "News", "Reality-TV", "Romance", "Sci-Fi", "Short", "Sport", "Talk-Show",
    "Thriller", "War", "Western",
)  # fmt: skip

# Not movie genres with a daily list of feature films: Short, and the TV-only ones.
NOT_MOVIE_GENRES = frozenset({"Short", "Game-Show", "News", "Reality-TV", "Talk-Show"})

MOVIE_GENRES = tuple(name for name in IMDB_GENRES if name not in NOT_MOVIE_GENRES)


def slug(genre: str) -> str:
    """The genre as IMDb's search URL spells it: `Sci-Fi` is `sci-fi`."""
    return genre.lower()


GENRE_BY_SLUG = {slug(name): name for name in IMDB_GENRES}


MOVIE_GENRE_SLUGS = tuple(slug(name) for name in MOVIE_GENRES)
