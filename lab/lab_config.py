"""The course's JupyterLab in two modes: `make lab` and `make lab-instructor`.

DLCOURSE_LAB=student (the default): JupyterLab on work/, the student's own copy of the
student edition, with nbgrader's Validate button and assignment list and none of the
instructor's tools (no Create Assignment, formgrader or course list).

DLCOURSE_LAB=instructor: JupyterLab on the repository with nbgrader's formgrader and
Create Assignment; the formgrader's autograde button defers to `make grade`
(grader/formgrader.py says why).

Start it from the repository root (the Makefile does): the Validate button and the
formgrader read ./nbgrader_config.py from the working directory.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when JupyterLab loads this file)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODE = os.environ.get("DLCOURSE_LAB", "student")
if MODE not in ("student", "instructor"):
    raise ValueError(f"DLCOURSE_LAB must be 'student' or 'instructor', not {MODE!r}")
INSTRUCTOR = MODE == "instructor"

# nbgrader's assignment list reads nbgrader_config.py from the Jupyter config path, not
# from the working directory: add the repository's (it sets the exchange).
os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
    p for p in (REPO, os.environ.get("JUPYTER_CONFIG_PATH")) if p
)

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.root_dir = REPO if INSTRUCTOR else os.path.join(REPO, "work")
# The notebooks name the kernel `python3`; started from .venv, that is .venv's Python
# (jupyter_client runs a kernel whose command is `python` with the server's own).
c.MappingKernelManager.default_kernel_name = "python3"
# No news feed and no update check: nothing that needs the network or pops up.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = (
    "jupyterlab.handlers.announcements.NeverCheckForUpdate"
)

# nbgrader's server extensions (installed enabled for all) and lab plugins, per mode.
c.ServerApp.jpserver_extensions = {
    # Validate with the course's verdicts: nbgrader's, through grader/validate.py.
    "nbgrader.server_extensions.validate_assignment": False,
    "grader.validate": True,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.course_list": False,
    # The instructor's formgrader: nbgrader's, through grader/formgrader.py.
    "nbgrader.server_extensions.formgrader": False,
    "grader.formgrader": INSTRUCTOR,
    # One interface, JupyterLab: Notebook 7's pages would ignore the plugin list below.
    "notebook": False,
}
disabled = [
    # "Would you like to receive official Jupyter news?" and its feed
    "@jupyterlab/apputils-extension:announcements",
    "@jupyterlab/extensionmanager-extension:plugin",  # searches PyPI
    "@jupyter/nbgrader:course-list",  # a JupyterHub tool: no course list here
    "@jupyter-notebook/lab-extension:interface-switcher",  # the "Notebook" button
    "@jupyter-notebook/lab-extension:launch-tree",
]
if not INSTRUCTOR:
    disabled += ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"]


def disable_plugins(handler, page_config):
    """JupyterLab calls this with every page's configuration, after reading its own."""
    page_config["disabledExtensions"] = sorted(
        {*page_config.get("disabledExtensions", []), *disabled}
    )
    return page_config


c.ServerApp.tornado_settings = {"page_config_hook": disable_plugins}
