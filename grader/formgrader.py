"""nbgrader's formgrader for `make lab-instructor`, without its autograde button.

The formgrader's autograde button runs `nbgrader autograde` inside the JupyterLab server:
the student's code would run with the instructor's rights, network and files (the
solutions, the gradebook, everyone else's submissions), none of the defences of
`make grade` (grader/sandbox.py). In this course grading is `make grade`; the formgrader
is where the instructor reviews what it wrote, grades by hand and releases feedback.

This server extension loads nbgrader's formgrader unchanged, except that the autograde
API answers with that advice instead of grading, and the submissions page shows the
advice in place of the autograde column. lab/lab_config.py enables it (and turns
nbgrader's own formgrader entry off) in instructor mode.
"""

import json

from jinja2 import ChoiceLoader, DictLoader, PrefixLoader
from tornado import web

ADVICE = (
    "Autograding from the formgrader is turned off in this course: it would run the "
    "students' code inside this JupyterLab server, without the grader's sandbox. "
    "Grade with `make grade SUBMISSIONS=DIR` (see the instructor's guide); "
    "the formgrader then shows its scores for review, manual grading and feedback."
)

# The submissions page with the advice instead of nbgrader's instructions, and no
# autograde column (its 6th). Everything else is nbgrader's own template.
SUBMISSIONS_PAGE = """{%- extends 'nbgrader/manage_submissions.tpl' -%}
{%- block head -%}
{{ super() }}
<style>#main-table td.autograde, .table thead th:nth-child(6) { display: none; }</style>
{%- endblock head -%}
{%- block messages -%}
<div class="alert alert-info" id="dlcourse-make-grade">{{ dlcourse_advice }}</div>
{%- endblock -%}
"""


def _jupyter_server_extension_points():
    return [{"module": "grader.formgrader"}]


def _refusing_handler():
    from nbgrader.server_extensions.formgrader.base import BaseApiHandler, check_xsrf

    class MakeGradeInstead(BaseApiHandler):
        @web.authenticated
        @check_xsrf
        def post(self, assignment_id, student_id):
            self.write(json.dumps({"success": False, "log": "", "error": ADVICE}))

    return MakeGradeInstead


def _load_jupyter_server_extension(serverapp):
    from nbgrader.server_extensions.formgrader import apihandlers, formgrader

    routes = apihandlers.default_handlers
    original = list(routes)
    refuse = _refusing_handler()
    routes[:] = [
        (route[0], refuse, *route[2:])
        if route[1] is apihandlers.AutogradeHandler
        else route
        for route in original
    ]
    try:
        formgrader.load_jupyter_server_extension(serverapp)
    finally:
        routes[:] = original
    env = serverapp.web_app.settings["nbgrader_jinja2_env"]
    env.loader = ChoiceLoader(
        [
            DictLoader({"manage_submissions.tpl": SUBMISSIONS_PAGE}),
            PrefixLoader({"nbgrader": env.loader}),
            env.loader,
        ]
    )
    env.globals["dlcourse_advice"] = ADVICE
    serverapp.log.info("formgrader loaded; its autograde button defers to `make grade`")
