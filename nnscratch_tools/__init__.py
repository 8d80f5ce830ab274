"""The instructor's tools for the course, beside (never inside) the teaching library.

Students import :mod:`nnscratch`; nothing there imports this package. The layers::

    nnscratch_tools/
        cli.py            the ``nnscratch`` command: doctor | data | release | grade
        doctor.py         ``nnscratch doctor``: is this environment ready for the course?
        data_command.py   ``nnscratch data`` (the data sets themselves live in nnscratch.data)
        release.py        ``nnscratch release``: the student edition of the notebooks
        grading/          ``nnscratch grade``
            command.py    its command line
            grader.py     find submissions, grade them side by side (--jobs), one row each
            sandbox.py    bubblewrap: one sealed sandbox per submission's kernel
            _runner.py    the trusted runner (outside the sandbox) that drives the kernel
            _probe.py     checks, from inside a sandbox, which protections hold
            criteria.py   the automatic criteria, from what really ran
            rubric.py     projects/rubric.yml
            names.py      one normalisation of submission names, CSV-safe cells
            report.py     grades.csv, feedback, the hash manifest, --merge
"""
