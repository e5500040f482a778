import os
import pathlib
import sys

# Notebook kernels and subprocesses must find the venv's tools (nbgrader calls `alembic`)
# and must never open a plot window.
REPO = pathlib.Path(__file__).resolve().parent.parent
os.environ["PATH"] = (
    str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
)
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
