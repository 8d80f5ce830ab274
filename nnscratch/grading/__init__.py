"""Grading of final projects, behind ``nnscratch grade``.

- :mod:`.rubric`: read and check ``projects/rubric.yml``;
- :mod:`.sandbox`: run one notebook copy in a child process with limits;
- :mod:`.criteria`: the automatic checks (sections, figures, errors) and their points;
- :mod:`.grader`: find submissions and grade each one, whatever it does;
- :mod:`.report`: ``grades.csv``, the feedback files, and the merge of manual scores.

Nothing here is imported by ``import nnscratch``.
"""

from .grader import SubmissionResult, discover_submissions, grade_all
from .report import merge_manual, write_grades
from .rubric import Criterion, Rubric, Section, load_rubric
from .sandbox import Limits, RunOutcome, execute_isolated

__all__ = [
    "Criterion",
    "Limits",
    "Rubric",
    "RunOutcome",
    "Section",
    "SubmissionResult",
    "discover_submissions",
    "execute_isolated",
    "grade_all",
    "load_rubric",
    "merge_manual",
    "write_grades",
]
