"""Optimisation, scans, reports and the `cnbfluor` command line.

The only layer that does I/O besides scenario loading. Builds on `rates`
(which builds on `dispersion`); nothing below imports from here.
"""

from .report import rate_report as rate_report

__all__ = ["rate_report"]
