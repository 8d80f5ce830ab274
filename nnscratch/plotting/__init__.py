"""Figures for the course notebooks and slides, drawn with matplotlib.

matplotlib is imported inside the functions only, so ``import nnscratch`` (and even
``import nnscratch.plotting``) stays NumPy-only. Every function draws, never shows: the
notebook cell ends with ``show(alt)``. Each returns the ``Axes`` (one panel, with an
``ax=`` argument to draw into an existing one) or the ``Figure`` (several panels).

House style, so that every figure reads the same and stays readable for colour-blind
students: the Okabe-Ito colour cycle of ``nnscratch.notebook``, and classes, runs and
series always told apart by marker or line style too, never by colour alone. Every axes
gets a title and axis labels, and a legend where there are several series.

One module per topic, in course order (add a function to the module it belongs to, or add a
module and re-export its names here):

- ``_style``      house style and the private helpers every module shares
- ``activations`` activations and function fitting (notebook 02)
- ``toy_data``    toy data and decision boundaries (notebooks 01, 03, 05, 06)
- ``graph``       autodiff computation graphs (notebook 04)
- ``surfaces``    loss surfaces and optimiser paths (notebooks 03, 08)
- ``curves``      training curves (notebooks 06-10)
- ``images``      images and first-layer weights (notebooks 07, 10, 11)
- ``evaluation``  the confusion matrix (notebook 07)
- ``layer_stats`` activations and gradients per layer (notebook 08)
- ``figures``     showing and saving (every notebook)
- ``_png``        a figure as the trimmed PNG that ``show`` stores
"""

from ._png import PNG_COMPRESS_LEVEL as PNG_COMPRESS_LEVEL
from ._style import COLORS, LINESTYLES, MARKERS
from .activations import plot_activations, plot_function_fit
from .curves import plot_history, plot_lr_schedule
from .evaluation import plot_confusion_matrix
from .figures import FIGURE_CLASS as FIGURE_CLASS
from .figures import FIGURE_SCALE, figure_html, save_figure, show, stored_alt
from .figures import _figure_png as _figure_png  # its pixels are tested against savefig's
from .graph import plot_computation_graph
from .images import plot_images, plot_weights_as_images
from .layer_stats import plot_gradient_norms, plot_histograms
from .surfaces import plot_loss_surface
from .toy_data import plot_data, plot_decision_boundary

__all__ = [
    "COLORS",
    "MARKERS",
    "LINESTYLES",
    "plot_data",
    "plot_decision_boundary",
    "plot_history",
    "plot_lr_schedule",
    "plot_images",
    "plot_weights_as_images",
    "plot_loss_surface",
    "plot_activations",
    "plot_function_fit",
    "plot_confusion_matrix",
    "plot_histograms",
    "plot_gradient_norms",
    "plot_computation_graph",
    "show",
    "figure_html",
    "stored_alt",
    "FIGURE_SCALE",
    "save_figure",
]
