"""Batch grading of the course's chapter notebooks (a thin, careful wrapper around nbgrader)."""
