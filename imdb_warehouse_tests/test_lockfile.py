"""uv.lock: in step with pyproject.toml, and the one source of versions of `make install`, of
the Docker image and of the environment these tests run in. Offline: uv reads only the lockfile."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
UV = str(Path(sys.executable).parent / "uv")
LOCK = tomllib.loads((PROJECT / "uv.lock").read_text())


def _locked(name: str) -> str:
    [version] = {p["version"] for p in LOCK["package"] if p["name"] == name}
    return version


def _uv(*args: str, cwd: Path = PROJECT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [UV, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )


def test_the_lockfile_is_in_step_with_pyproject(tmp_path):
    checked = _uv("lock", "--check", "--offline")
    assert checked.returncode == 0, checked.stderr
    # and the check does catch a pyproject.toml changed without `uv lock`
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(PROJECT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"playwright>=1.55,<2",', ""))
    stale = _uv("lock", "--check", "--offline", cwd=tmp_path)
    assert stale.returncode != 0
    assert "needs to be updated" in stale.stderr


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
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    dev = pyproject["project"]["optional-dependencies"]["dev"]
    assert made == _locked("uv")
    assert f"uv=={made}" in dev
