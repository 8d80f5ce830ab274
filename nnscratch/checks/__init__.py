"""Exercise feedback for the course notebooks: ``check_...(answer)`` prints one line on
success, or raises ``CheckFailed`` naming the first thing wrong (in Jupyter: one short
block saying which exercise, what is wrong and what to try).

One module per notebook (``nb01`` ... ``nb12``); every check is re-exported here, so a
notebook just does ``from nnscratch.checks import check_sigmoid``.
"""

from __future__ import annotations

from . import nb01, nb02, nb03, nb04, nb05, nb06, nb07, nb08, nb09, nb10, nb11, nb12
from ._core import CheckFailed, ExerciseNotDone, install_ipython_hook
from .nb01 import *  # noqa: F403
from .nb02 import *  # noqa: F403
from .nb03 import *  # noqa: F403
from .nb04 import *  # noqa: F403
from .nb05 import *  # noqa: F403
from .nb06 import *  # noqa: F403
from .nb07 import *  # noqa: F403
from .nb08 import *  # noqa: F403
from .nb09 import *  # noqa: F403
from .nb10 import *  # noqa: F403
from .nb11 import *  # noqa: F403
from .nb12 import *  # noqa: F403

__all__ = [
    "CheckFailed",
    "ExerciseNotDone",
    *nb01.__all__,
    *nb02.__all__,
    *nb03.__all__,
    *nb04.__all__,
    *nb05.__all__,
    *nb06.__all__,
    *nb07.__all__,
    *nb08.__all__,
    *nb09.__all__,
    *nb10.__all__,
    *nb11.__all__,
    *nb12.__all__,
]

# In Jupyter, a stub's NotImplementedError raised in an exercise cell reads "Exercise N is not
# done yet" (checks given a stub function say so themselves).
install_ipython_hook()
