"""The two ways to install (pip + requirements.txt, conda + environment.yml) agree, and CI runs `make test`."""

import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parent.parent


def requirement_lines(text):
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_environment_yml_matches_requirements():
    reqs = requirement_lines((REPO / "requirements.txt").read_text())
    env = (REPO / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", env, re.M), (
        "environment.yml must pin python=3.11"
    )
    pip_block = env.split("- pip:", 1)[1]
    pip_reqs = [
        m.group(1).strip() for m in re.finditer(r"^\s+-\s+(.+)$", pip_block, re.M)
    ]
    assert [r for r in pip_reqs if r != "-e ."] == reqs, (
        "environment.yml's pip list differs from requirements.txt"
    )
    assert "-e ." in pip_reqs, "environment.yml must install the course's own package"


def test_pins_that_matter():
    reqs = requirement_lines((REPO / "requirements.txt").read_text())
    assert "torch==2.13.0" in reqs, (
        "torch must be pinned to exactly 2.13.0 (the CPU wheel)"
    )
    jb = next(r for r in reqs if r.startswith("jupyter-book"))
    version = re.search(r"==(\d+)\.", jb)
    assert version and version.group(1) == "1", (
        f"Jupyter Book must stay on version 1, got {jb}"
    )


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test\s*$", ci, re.M), ".ci/run must call `make test`"
