"""The code is formatted and lint-free, as `make lint` checks (ruff, configured in pyproject.toml).

Ruff covers dlcourse/, grader/, tests/, bench/, book/_ext/ and the code cells of every
solution notebook; both checks take about a second.
"""

import pathlib
import shutil
import subprocess
import sys

import pytest

import nbtools

FIX = "run `make format` (ruff's auto-fixes and formatter), then `make release`"


def ruff(*args):
    exe = pathlib.Path(sys.executable).with_name("ruff")
    found = str(exe) if exe.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail(
            "ruff is not installed: pip install -r requirements.txt (or `make setup`)"
        )
    return subprocess.run(
        [found, *args], cwd=nbtools.REPO, capture_output=True, text=True, timeout=120
    )


def test_ruff_check_finds_nothing():
    done = ruff("check", "--output-format=concise", ".")
    if done.returncode:
        errors = [ln for ln in done.stdout.splitlines() if ln[:1] not in ("", " ", "[")]
        files = sorted({ln.split(":", 1)[0] for ln in errors if ":" in ln})
        pytest.fail(
            f"ruff check: lint errors in {len(files)} files: {', '.join(files)}\n"
            f"{FIX}; fix by hand what `make lint` still reports.\n"
            + "\n".join(errors[:40])
            + done.stderr
        )


def test_code_is_formatted():
    done = ruff("format", "--check", "--output-format=concise", ".")
    if done.returncode:
        lines = [ln for ln in done.stdout.splitlines() if "unformatted" in ln]
        files = sorted({ln.split(":", 1)[0] for ln in lines})
        pytest.fail(
            f"ruff format: {len(files)} files are not formatted: {', '.join(files)}\n"
            f"{FIX}.\n{done.stderr}"
        )
