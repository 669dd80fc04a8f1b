"""Figures: the paper's Fig. 2 for any scenario, scan maps, optimisation traces.

matplotlib is imported only when a figure is drawn.
"""

from .fig2 import Fig2Data as Fig2Data
from .fig2 import Intersection as Intersection
from .fig2 import draw_fig2 as draw_fig2
from .fig2 import energy_transfer as energy_transfer
from .fig2 import fig2 as fig2
from .fig2 import fig2_data as fig2_data
from .fig2 import momentum_quantiles as momentum_quantiles
from .plots import FORMATS as FORMATS
from .plots import check_figure_path as check_figure_path
from .plots import figure_style as figure_style
from .plots import plot_file as plot_file
from .plots import plot_scan as plot_scan
from .plots import plot_trace as plot_trace
from .plots import secondary_axes as secondary_axes
