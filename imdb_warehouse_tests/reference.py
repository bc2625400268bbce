"""Where the reference material lies (shared/imdb_reference): read where it is, never copied."""

import os
from pathlib import Path

CANDIDATES = [
    os.environ.get("IMDB_REFERENCE_DIR", ""),
    Path(__file__).resolve().parents[1].parent / "shared" / "imdb_reference",
    "/work/shared/imdb_reference",
]
REFERENCE = next((Path(c) for c in CANDIDATES if c and (Path(c) / "FORMAT.md").is_file()), None)
