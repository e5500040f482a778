"""nbgrader configuration of the course (read by every nbgrader command run from the repository root).

solutions/<id>/<id>.ipynb is nbgrader's "source" and notebooks/<id>/<id>.ipynb its
"release", so `nbgrader generate_assignment 01_autodiff` writes the student edition
in place. Everything that grading produces (gradebook, submissions, feedback) goes
to .workspace/grading/, which git ignores: the folder where `make grade` writes its
gradebook, autograded notebooks and feedback (its default OUT), so that the formgrader
of `make lab-instructor` shows what `make grade` graded.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

ROOT = os.path.dirname(os.path.abspath(__file__))
GRADING = os.path.join(".workspace", "grading")  # = make grade's default OUT
# sqlite cannot create the folder of its database
os.makedirs(os.path.join(ROOT, GRADING), exist_ok=True)

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "dlcore"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join(GRADING, "submitted")
c.CourseDirectory.autograded_directory = os.path.join(GRADING, "autograded")
c.CourseDirectory.feedback_directory = os.path.join(GRADING, "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, GRADING, "gradebook.db")
# nbgrader's exchange (its release/fetch/submit/collect between instructor and students),
# kept in the repository: on one machine the students' assignment list (`make lab`) and the
# formgrader's Release and Collect then work instead of reporting a missing system folder.
# On a shared JupyterHub, point it at the shared exchange instead.
c.Exchange.root = os.path.join(ROOT, ".workspace", "exchange")
os.makedirs(c.Exchange.root, exist_ok=True)  # nbgrader refuses a missing exchange
# Only the chapter notebook is part of an assignment; never copy caches or checkpoints.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "*.egg-info",
    ".DS_Store",
]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# A chapter notebook may take up to a minute; give each cell room but not forever.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300

# Exercise cells carry the `skip-execution` tag so the book (myst-nb/nbclient) shows them
# without running them. nbclient honours that tag by default, which would make nbgrader
# skip every answer and test cell and hand a blank notebook full marks: grading and
# validation must run every cell, so point the setting at a tag no cell carries.
c.Execute.skip_cells_with_tag = "dlcourse-never-skip"
