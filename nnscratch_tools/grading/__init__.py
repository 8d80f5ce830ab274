"""Grading of final projects, behind ``nnscratch grade``.

- :mod:`.rubric`: read and check ``projects/rubric.yml``;
- :mod:`.sandbox`: one bubblewrap sandbox per submission, and the trusted runner;
- :mod:`._runner` / :mod:`._probe`: what runs outside / inside the sandbox;
- :mod:`.criteria`: the automatic checks (sections, figures, errors) and their points;
- :mod:`.names`: submission names, unambiguous row labels and CSV cells;
- :mod:`.shown`: text a submission controls, made inert for the terminal and Markdown;
- :mod:`.grader`: find submissions and grade each one, whatever it does, side by side;
- :mod:`.report`: ``grades.csv``, the feedback files, the manifest, the merge;
- :mod:`.shards`: ``--shard k/N`` and the checked ``--combine`` (Kubernetes Indexed Jobs);
- :mod:`.gradescope`: the Gradescope autograder zip and ``run_autograder``;
- :mod:`.command`: the ``nnscratch grade`` command line.

Nothing here is imported by ``import nnscratch``.
"""

from .grader import SubmissionResult, discover_submissions, grade_all
from .report import GradesWriter, merge_manual, verify_manifest, write_grades
from .rubric import Criterion, Rubric, Section, load_rubric
from .sandbox import Limits, RunOutcome, execute_isolated, sandbox_problem

__all__ = [
    "Criterion",
    "GradesWriter",
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
    "sandbox_problem",
    "verify_manifest",
    "write_grades",
]
