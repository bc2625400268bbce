"""uv.lock: in step with pyproject.toml, and the one source of versions of `make install`, of
the Docker image and of the environment these tests run in. Offline, and never from a package
cache: uv reads only the lockfile (and the environment), and nothing else here needs more."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parents[1]
UV = str(Path(sys.executable).parent / "uv")
LOCK = tomllib.loads((PROJECT / "uv.lock").read_text())
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text())
DEV = PYPROJECT["project"]["optional-dependencies"]["dev"]


def _locked(name: str) -> str:
    [version] = {p["version"] for p in LOCK["package"] if p["name"] == name}
    return version


def _uv(*args: str, cwd: Path = PROJECT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [UV, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )


def _requirement(text: str, extra: str | None = None) -> tuple:
    """A requirement as uv compares it: names and extras per PEP 503, the version specifiers as
    a set, the marker parsed; one of an optional extra carries `extra == '…'` in its marker."""
    requirement = Requirement(text)
    if extra is not None:
        clause = f"extra == '{canonicalize_name(extra)}'"
        marker = requirement.marker
        requirement.marker = Marker(f"({marker}) and {clause}" if marker else clause)
    return (
        canonicalize_name(requirement.name),
        frozenset(canonicalize_name(e) for e in requirement.extras),
        requirement.specifier,
        requirement.marker,
    )


def _recorded(entry: dict) -> tuple:
    """A requirement as uv.lock records it: `{ name, extras, specifier, marker }`."""
    marker = f"; {entry['marker']}" if "marker" in entry else ""
    extras = ",".join(entry.get("extras", []))
    return _requirement(f"{entry['name']}[{extras}]{entry.get('specifier', '')}{marker}")


def _out_of_step(pyproject: dict, lock: dict) -> dict[str, tuple]:
    """Where uv.lock's record of the project differs from pyproject.toml, as uv compares the two
    before it resolves anything: {what: (pyproject.toml's, uv.lock's)}, of the requirements only
    those on one side. Markers other than `extra == …` are compared as written, while uv
    simplifies them (python_version against requires-python): the project has none."""
    project = pyproject["project"]
    [package] = [
        p
        for p in lock["package"]
        if p["name"] == canonicalize_name(project["name"]) and p["source"] == {"editable": "."}
    ]
    metadata = package.get("metadata", {})
    optional = project.get("optional-dependencies", {})
    declared = {_requirement(text) for text in project.get("dependencies", [])} | {
        _requirement(text, extra) for extra, texts in optional.items() for text in texts
    }
    groups = pyproject.get("dependency-groups", {})
    compared = {
        "requires-python": (
            SpecifierSet(project.get("requires-python", "")),
            SpecifierSet(lock.get("requires-python", "")),
        ),
        "version": (Version(project["version"]), Version(package["version"])),
        "requires-dist": (declared, {_recorded(e) for e in metadata.get("requires-dist", [])}),
        "provides-extras": (
            {canonicalize_name(extra) for extra in optional},
            {canonicalize_name(extra) for extra in metadata.get("provides-extras", [])},
        ),
        "requires-dev": (
            {(canonicalize_name(g), _requirement(t)) for g, texts in groups.items() for t in texts},
            {
                (canonicalize_name(g), _recorded(e))
                for g, entries in metadata.get("requires-dev", {}).items()
                for e in entries
            },
        ),
    }
    return {
        what: (ours - theirs, theirs - ours) if isinstance(ours, set) else (ours, theirs)
        for what, (ours, theirs) in compared.items()
        if ours != theirs
    }


def test_the_lockfile_is_in_step_with_pyproject():
    assert _out_of_step(PYPROJECT, LOCK) == {}, "pyproject.toml changed: run .venv/bin/uv lock"
    # uv's own verdict: in step, it reads only the lockfile (offline, with any cache or none)
    checked = _uv("lock", "--check", "--offline", "--python", sys.executable)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("old", "new", "differences"),
    [
        pytest.param(
            '"playwright>=1.55,<2",', "",
            {"requires-dist": (set(), {_requirement("playwright>=1.55,<2", "dev")})},
            id="a-dependency-removed",
        ),
        pytest.param(
            '"pyarrow>=20",', '"pyarrow>=20", "httpx>=0.27",',
            {"requires-dist": ({_requirement("httpx>=0.27")}, set())},
            id="a-dependency-added",
        ),
        pytest.param(
            '"polars>=2.1,<3",', '"polars>=2.2,<3",',
            {"requires-dist": ({_requirement("polars>=2.2,<3")}, {_requirement("polars>=2.1,<3")})},
            id="a-version-bound-changed",
        ),
        pytest.param(
            "\ndev = [", "\ntest = [",
            {
                "requires-dist": (
                    {_requirement(t, "test") for t in DEV}, {_requirement(t, "dev") for t in DEV}
                ),
                "provides-extras": ({"test"}, {"dev"}),
            },
            id="an-extra-renamed",
        ),
        pytest.param(
            'requires-python = ">=3.11,<3.14"', 'requires-python = ">=3.11,<3.15"',
            {"requires-python": (SpecifierSet(">=3.11,<3.15"), SpecifierSet(">=3.11,<3.14"))},
            id="requires-python-changed",
        ),
        pytest.param(
            '"beautifulsoup4>=4.12,<5",', '"BeautifulSoup4 < 5, >= 4.12.0",', {},
            id="the-same-requirement-spelled-otherwise",
        ),
        pytest.param("\ndev = [", "\nDev = [", {}, id="the-same-extra-spelled-otherwise"),
    ],
)  # fmt: skip
def test_the_check_catches_a_pyproject_changed_without_uv_lock(tmp_path, old, new, differences):
    text = (PROJECT / "pyproject.toml").read_text()
    assert old in text
    changed = text.replace(old, new, 1)
    assert _out_of_step(tomllib.loads(changed), LOCK) == differences
    # and uv agrees. Out of step, it goes on to resolve, which offline ends in "needs to be
    # updated" or, when the cache lacks a package (an empty one), in "No solution found": the
    # verdict is the same, the message is the cache's
    (tmp_path / "pyproject.toml").write_text(changed)
    for name in ("uv.lock", "README.md"):
        shutil.copy(PROJECT / name, tmp_path / name)
    checked = _uv("lock", "--check", "--offline", "--python", sys.executable, cwd=tmp_path)
    assert (checked.returncode == 0) == (differences == {}), checked.stderr


def test_this_environment_holds_the_lockfiles_versions():
    """What `make install` made: every locked package of the project and its dev extra, at
    its locked version (packages added by hand beside them are let be)."""
    synced = _uv(
        "sync", "--locked", "--extra", "dev", "--inexact", "--check", "--offline",
        env={"UV_PROJECT_ENVIRONMENT": sys.prefix},
    )  # fmt: skip
    assert synced.returncode == 0, synced.stderr


def test_make_install_syncs_the_lockfile_and_reruns_when_it_changes(tmp_path):
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(PROJECT / name, tmp_path / name)
    venv = tmp_path / "venv"
    make = ["make", "--no-print-directory", f"VENV={venv}", "PYTHON=python3"]
    recipe = subprocess.run(
        [*make, "-n", "install"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.replace("\\\n", " ")
    [sync] = [line for line in recipe.splitlines() if re.search(r"\buv sync\b", line)]
    assert {"--locked", "--extra", "dev"} <= set(shlex.split(sync)), sync
    assert f"UV_PROJECT_ENVIRONMENT={venv}" in sync
    # pip brings uv, at the lockfile's version, and nothing else
    pips = [line for line in recipe.splitlines() if "pip install" in line]
    assert [shlex.split(line)[-1] for line in pips] == [f"uv=={_locked('uv')}"], pips
    # a newer lockfile makes the environment out of date
    venv.mkdir()
    (venv / ".installed").touch()
    assert subprocess.run([*make, "-q", "install"], cwd=tmp_path).returncode == 0
    stamp = (venv / ".installed").stat().st_mtime
    os.utime(tmp_path / "uv.lock", (stamp + 10, stamp + 10))
    assert subprocess.run([*make, "-q", "install"], cwd=tmp_path).returncode == 1


def _dockerfile_runs() -> list[str]:
    text = (PROJECT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line[len("RUN ") :] for line in text.splitlines() if line.startswith("RUN ")]


def test_the_image_installs_the_lockfile_without_the_dev_extra(tmp_path):
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert re.search(r"^COPY .*\buv\.lock\b", dockerfile, re.M), "the image never gets uv.lock"
    commands = [shlex.split(c) for run in _dockerfile_runs() for c in run.split("&&")]
    installs = [c for c in commands if c[:2] == ["pip", "install"]]
    assert [c[-1] for c in installs] == [f"uv=={_locked('uv')}"], installs  # no `pip install .`
    [sync] = [c for c in commands if c[:2] == ["uv", "sync"]]
    assert {"--locked", "--no-editable"} <= set(sync), sync
    assert not {"--extra", "--all-extras", "--upgrade", "-U"} & set(sync), sync
    # what that very command installs into a new environment (--dry-run, from this machine's
    # Python rather than the image's)
    planned = _uv(
        *sync[1:], "--dry-run", "--offline", "--python", sys.executable,
        env={"UV_PROJECT_ENVIRONMENT": str(tmp_path / "image")},
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    installed = dict(re.findall(r"^ \+ (\S+)==(\S+)", planned.stderr, re.M))
    assert installed["dagster"] == _locked("dagster")
    assert installed["dagster-postgres"] == _locked("dagster-postgres")
    assert re.search(r"^ \+ imdb-warehouse @ file:", planned.stderr, re.M)  # the project
    assert not {"pytest", "ruff", "mypy", "playwright", "uv"} & set(installed), installed


def test_one_uv_version_everywhere():
    makefile = (PROJECT / "Makefile").read_text()
    [made] = re.findall(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert made == _locked("uv")
    assert f"uv=={made}" in DEV
