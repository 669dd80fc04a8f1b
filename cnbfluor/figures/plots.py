"""Publication figures of scans and optimisation traces, and the shared figure style.

All drawing goes through `figure_style`: the package's defaults (readable
sizes, constrained layout, 200 dpi), then the user's matplotlib style
(`--style FILE` or a style name), so that a style file overrides ours.
Figures are written with the Agg backend: no display is needed.
"""

import contextlib
import json
from pathlib import Path

import numpy as np

#: The package's matplotlib defaults; a user style passed to `figure_style` wins.
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "figure.constrained_layout.use": True,
    "font.size": 10.5,
    "axes.titlesize": "medium",
    "axes.labelsize": "medium",
    "legend.fontsize": "small",
    "legend.frameon": True,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.5,
    "xtick.direction": "in",
    "ytick.direction": "in",
}


#: Figure formats by file extension.
FORMATS = {".png": "PNG", ".pdf": "PDF", ".svg": "SVG"}


def check_figure_path(path, flag: str = "--out") -> Path:
    """Check a figure path before any work: a known extension and a writable folder.

    **Raises:** `PathError` naming `flag`, the path and the allowed formats.
    """
    from .._files import check_writable
    from ..errors import PathError

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise PathError(f"{flag} {str(path)!r}: unknown figure format {path.suffix or '(none)'!r}; allowed: "
                        + ", ".join(f"{name} ({ext})" for ext, name in FORMATS.items()))
    check_writable(path, flag)
    return path


@contextlib.contextmanager
def figure_style(style=None):
    """Agg backend, `STYLE`, then `style` (a matplotlib style name or file), for a `with` block."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if style is not None and Path(str(style)).suffix and not Path(str(style)).exists():
        from ..errors import PathError

        raise PathError(f"--style: no such style file {str(style)!r}")
    with plt.rc_context(STYLE):
        with plt.style.context(style) if style is not None else contextlib.nullcontext():
            yield


def secondary_axes(ax):
    """Top axis: wavelength 2 pi / k in um; right axis: omega / h in THz (primary axes in eV)."""
    from ..rates.constants import HC_EV_UM, THZ_PER_EV

    def to_um(k):
        # k = 0 (the axis origin) maps to a very long, finite wavelength so that
        # matplotlib can place the secondary axis.
        return HC_EV_UM / np.maximum(np.asarray(k, dtype=float), 1e-9)

    from matplotlib.ticker import FixedLocator, FormatStrFormatter

    top = ax.secondary_xaxis("top", functions=(to_um, to_um))
    top.set_xlabel(r"wavelength $2\pi/k$ [$\mu$m]")
    # 1/k is far from linear: label round wavelengths on the right 90% of the axis.
    k_lo, k_hi = ax.get_xlim()
    k_lo = max(k_lo, k_hi / 10.0)
    nice = np.array([m * 10.0**e for e in range(-3, 7) for m in (1, 2, 3, 5)])
    ticks = nice[(nice >= HC_EV_UM / k_hi) & (nice <= HC_EV_UM / k_lo)]
    top.xaxis.set_major_locator(FixedLocator(ticks))
    top.xaxis.set_minor_locator(FixedLocator([]))
    top.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    right = ax.secondary_yaxis("right", functions=(lambda e: e * THZ_PER_EV, lambda f: f / THZ_PER_EV))
    right.set_ylabel(r"$\omega/h$ [THz]")
    return top, right


def plot_trace(history, path, style=None, objective="rate_per_year"):
    """The objective against step, one line per start (log scale); `history` is log-objective (steps, starts)."""
    import matplotlib.pyplot as plt

    trace = np.exp(np.asarray(history, dtype=float))
    with figure_style(style):
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        steps = np.arange(1, trace.shape[0] + 1)
        for i in range(trace.shape[1]):
            ax.plot(steps, trace[:, i], lw=1.2, label=f"start {i}")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("detected rate [1/yr]" if objective.startswith("detected") else "event rate [1/yr]")
        ax.set_title("optimisation trace")
        if trace.shape[1] <= 10:
            ax.legend(ncol=2)
        fig.savefig(path)
        plt.close(fig)
    return Path(path)


def cell_edges(centres, log=False):
    """Edges of the cells around grid points: midpoints (geometric when `log`), ends mirrored."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([c[0] / 2.0, c[0] * 2.0]) if log and c[0] > 0 else c[0] + np.array([-0.5, 0.5])
    u = np.log(c) if log else c
    mid = 0.5 * (u[1:] + u[:-1])
    edges = np.concatenate([[u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]])
    return np.exp(edges) if log else edges


def _label(ds, key):
    units = ds[key].attrs.get("units", "")
    return f"{key} [{units}]" if units else key


def plot_scan(ds, path, style=None):
    """A 1-D scan (rate and elasticities x d ln R / dx) or a 2-D map of log10 rate with the optimum.

    **Arguments:** `ds`: the `xarray.Dataset` of `cnbfluor scan`; `path`: output
    file (PNG/PDF/SVG). **Returns:** `(Figure, summary dict)`.
    """
    import matplotlib.pyplot as plt

    dims = [d for d in ds["rate_per_year"].dims]
    rate = np.asarray(ds["rate_per_year"].values, dtype=float)
    if not np.any(np.isfinite(rate)):
        raise ValueError("scan: no evaluated grid points to plot")
    scales = {a["key"]: a["scale"] for a in json.loads(ds.attrs["axes"])}
    best = np.unravel_index(np.nanargmax(rate), rate.shape)
    summary = {"best_rate_per_year": float(rate[best]),
               "at": {d: float(ds[d].values[i]) for d, i in zip(dims, best)}}
    with figure_style(style):
        if len(dims) == 1:
            (key,) = dims
            x = np.asarray(ds[key].values, dtype=float)
            keys = list(ds["parameter"].values) if "sensitivity" in ds and "parameter" in ds.dims else []
            fig, axes = plt.subplots(2 if keys else 1, 1, figsize=(6.0, 6.0 if keys else 3.8), sharex=True,
                                     squeeze=False)
            ax = axes[0, 0]
            ax.plot(x, rate, marker="o", ms=3)
            ax.set_yscale("log" if np.all(rate[np.isfinite(rate)] > 0) else "linear")
            ax.set_ylabel("event rate [1/yr]")
            ax.set_title(f"scan over {key}")
            for p, name in enumerate(keys):
                sens = np.asarray(ds["sensitivity"].values[:, p], dtype=float)
                value = x if name == key else float(_scenario_value(ds, name))
                axes[1, 0].plot(x, value * sens, label=name)
            if keys:
                axes[1, 0].set_ylabel(r"elasticity $x\,\partial\ln R/\partial x$")
                axes[1, 0].axhline(0.0, color="0.5", lw=0.8)
                axes[1, 0].legend()
            axes[-1, 0].set_xlabel(_label(ds, key))
            if scales.get(key) == "log":
                axes[-1, 0].set_xscale("log")
        elif len(dims) == 2:
            ky, kx = dims
            x = np.asarray(ds[kx].values, dtype=float)
            y = np.asarray(ds[ky].values, dtype=float)
            fig, ax = plt.subplots(figsize=(6.4, 4.8))
            # Cells centred on the grid points: edges at the midpoints, geometric on a log axis.
            xe, ye = cell_edges(x, scales.get(kx) == "log"), cell_edges(y, scales.get(ky) == "log")
            with np.errstate(divide="ignore"):
                mesh = ax.pcolormesh(xe, ye, np.log10(rate), shading="flat", cmap="viridis")
            fig.colorbar(mesh, ax=ax, label=r"$\log_{10}$ event rate [1/yr]")
            ax.plot(x[best[1]], y[best[0]], marker="*", ms=14, mfc="white", mec="k", ls="none",
                    label=f"max {rate[best]:.3g} /yr")
            ax.legend(loc="best")
            ax.set_xlabel(_label(ds, kx))
            ax.set_ylabel(_label(ds, ky))
            for key, axis in ((kx, ax.xaxis), (ky, ax.yaxis)):
                if scales.get(key) == "log":
                    (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            ax.set_title("event rate")
        else:
            raise ValueError(f"scan: cnbfluor plot draws 1-D and 2-D scans; this one has {len(dims)} axes ({', '.join(dims)})")
        fig.savefig(path)
    return fig, summary


def _scenario_value(ds, key):
    import tomllib

    from ..scenario import parse_scenario

    return parse_scenario(tomllib.loads(ds.attrs["scenario_toml"])).value(key)


def plot_file(source, out=None, style=None):
    """Plot a scan (`.nc`) or an optimisation trace (an `optimize --out` folder or its checkpoint.npz).

    **Returns:** `(path written, summary dict)`.
    """
    source = Path(source)
    from .._files import is_zarr_store

    if source.is_dir() and is_zarr_store(source):
        import matplotlib.pyplot as plt
        import xarray as xr

        out = Path(out) if out else source.with_suffix(".png")
        ds = xr.open_zarr(source, consolidated=False).load()
        fig, summary = plot_scan(ds, out, style)
        plt.close(fig)
        return out, summary
    if source.is_dir():
        # A vmapped run keeps its checkpoint; a run on Dask keeps its trace.
        source = source / ("checkpoint.npz" if (source / "checkpoint.npz").exists() or
                           not (source / "trace.npz").exists() else "trace.npz")
    if not source.exists():
        raise ValueError(f"plot: no such file {str(source)!r}")
    if source.suffix == ".nc":
        import matplotlib.pyplot as plt
        import xarray as xr

        out = Path(out) if out else source.with_suffix(".png")
        ds = xr.load_dataset(source, engine="scipy")
        fig, summary = plot_scan(ds, out, style)
        plt.close(fig)
        return out, summary
    if source.suffix == ".npz":
        data = np.load(source)
        history = np.atleast_2d(np.asarray(data["history"], dtype=float))
        steps = history.shape[0]
        if "value" in data:
            # The trace ends with the value at the final positions, as `optimize` reports it.
            history = np.concatenate([history.reshape(-1, data["value"].shape[0]), data["value"][None, :]])
        result = source.with_name("result.json")
        objective = json.loads(result.read_text()).get("objective", "rate_per_year") if result.exists() else "rate_per_year"
        out = Path(out) if out else source.with_name("trace.png")
        plot_trace(history, out, style, objective=objective)
        final = np.exp(history[-1])
        return out, {"steps": steps, "best_rate_per_year": float(np.max(final[np.isfinite(final)]))}
    raise ValueError(f"plot: {str(source)!r} is neither a scan (.nc) nor an optimisation (folder or checkpoint.npz)")
