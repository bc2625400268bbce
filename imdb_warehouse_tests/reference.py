"""Where the reference material lies (shared/imdb_reference): read where it is, never copied.

IMDB_REFERENCE_DIR names it. Otherwise it is `shared/imdb_reference` beside the checkout, or
beside the checkout this one was cloned from (CI tests a fresh clone in a temporary folder, whose
`origin` is the checkout on this machine).
"""

import os
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

REPOSITORY = Path(__file__).resolve().parents[1]
MARKER = "FORMAT.md"  # a folder holding it is the reference material
CLONE_DEPTH = 3  # origins followed at the most: a clone of a clone of the checkout


def _origin(checkout: Path) -> Path | None:
    """The local checkout `checkout` was cloned from, if its origin is a folder on this machine."""
    try:
        url = subprocess.run(
            ["git", "-C", str(checkout), "remote", "get-url", "origin"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(urlsplit(url).path if url.startswith("file://") else url)
    path = path if path.is_absolute() else checkout / path
    return path.resolve() if path.is_dir() else None


def candidates() -> list[Path]:
    """The places looked in, in order."""
    if named := os.environ.get("IMDB_REFERENCE_DIR"):
        return [Path(named)]  # named: the only place, so that a wrong name shows
    places, checkout = [], REPOSITORY
    for _ in range(CLONE_DEPTH + 1):
        places.append(checkout.parent / "shared" / "imdb_reference")
        if (checkout := _origin(checkout)) is None:
            break
    return places


@cache
def reference_dir() -> Path | None:
    """The folder of the reference material, or None when none of the candidates holds it."""
    return next((place for place in candidates() if (place / MARKER).is_file()), None)
