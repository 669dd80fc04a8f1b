"""The paper's Fig. 2 for any scenario: where the photon dispersion meets the energy transfer.

Emission needs a photon (k, omega) on the medium's dispersion that carries the
energy the neutrino gives up,

    Delta E(k; p, c) = E_i(p) - E'_j(k) = sqrt(m_i^2 + p^2) - sqrt(m_j^2 + p^2 + k^2 - 2 p k c),

so the photon energies are the intersections of omega(k) with Delta E(k). At
p = 0 (the paper's figure) there is one curve; the relic momentum spread turns
it into a band, and only the part of the band where the dispersion lies within
Gamma_v of the level spacing E_vg is resonant. A flat omega(k) keeps the whole
band's intersections inside that window.

`fig2_data` computes everything the figure shows (plain numpy arrays, so that
tests can check the plotted numbers); `draw_fig2` draws it.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import dispersion as _disp
from ..dispersion import S_FAR, AbstractBandInK
from ..rates import as_uniaxial, dispersion_roots, level_spacing, needs_three_d, rest_roots
from ..rates.phase_matching import grating_terms
from ..rates.constants import BOLTZMANN, length_from_um
from ..rates.momentum import FermiDirac, Maxwellian, Monochromatic, Rest


@dataclasses.dataclass(frozen=True)
class Intersection:
    """A root of omega(k) = Delta E(k; p, c): photon `k`, `omega` (eV) on `branch`, at (`p`, `c`)."""

    k: float
    omega: float
    branch: int
    p: float
    c: float


@dataclasses.dataclass(frozen=True)
class Fig2Data:
    """What `draw_fig2` plots; energies and wavenumbers in eV.

    - `branches`, `zoom_branches`: one `(k, omega)` pair of arrays per
      dispersion branch, for the main panel and for the inset.
    - `k`: the wavenumber grid of the energy-transfer curves; `rest`
      Delta E(k; 0), `central` Delta E(k; p_central, c = 0), `band_lo` and
      `band_hi` its extremes over p in [p_lo, p_hi] and c in [-1, 1].
    - `momenta`: `(p_lo, p_central, p_hi)`, the distribution's 5%, 50% and
      95% points of |p| (all zero for `rest`).
    - `intersections`: at p = 0 and at the central momentum.
    - `level_spacing` E_vg and `width` Gamma_v; `zoom`: the inset's
      `(k0, dk, omega0, domega)` half-widths around the p = 0 intersection;
      `masses`: `(m_i, m_j)`.
    - `title`: the figure's title, at most two lines: the dispersion model in
      words with its defining parameters, then the transition and the relic
      momentum distribution (see `figure_title`).
    """

    branches: tuple
    zoom_branches: tuple
    k: np.ndarray
    rest: np.ndarray
    central: np.ndarray
    band_lo: np.ndarray
    band_hi: np.ndarray
    momenta: tuple
    intersections: tuple
    level_spacing: float
    width: float
    zoom: tuple
    masses: tuple
    title: str
    three_d: "Contours | None" = None


@dataclasses.dataclass(frozen=True)
class Contours:
    """The 3-D panel of an anisotropic medium or a grating (PHYSICS.md Sec. 9); eV throughout.

    - `across`: per mode `(label, k_perp, omega)`: the mode's dispersion at the
      far end of its contour (k_z = 0 for the lowest band: across the axis).
    - `contours`: per mode `(label, k_perp, k_z)`: the iso-frequency contour at E_vg.
    - `shells`: per grating term `(G_z, G_perp, r_lo, r_rest, r_hi)`: the momentum
      transfers |q| = |k - G| that relic momenta between the 5% and 95% points of
      |p| can take up at omega = E_vg (an annulus about k = G, drawn in the
      plane of the axis and G), and the p = 0 one. G_perp = 0 for a grating
      along the axis.
    """

    across: tuple
    contours: tuple
    shells: tuple


def momentum_quantiles(momentum, levels=(0.05, 0.5, 0.95)):
    """|p| (eV) below which the given fractions of the distribution lie (`AbstractMomentum.quantiles`)."""
    return momentum.quantiles(levels)


def energy_transfer(k, m_i, m_j, p, c):
    """Delta E(k; p, c) = E_i(p) - E'_j(k), eV (numpy, broadcasts)."""
    return np.sqrt(m_i**2 + p**2) - np.sqrt(m_j**2 + p**2 + k**2 - 2.0 * p * k * c)


def _intersections(model, p, c):
    nu = model.neutrinos
    q = model.quadrature
    roots = dispersion_roots(model.dispersion, nu.m_initial, nu.m_final, p, c, n_grid=q.root_grid)
    return tuple(
        Intersection(float(k), float(w), int(b), float(p), float(c))
        for k, w, b, ok in zip(roots.k, roots.omega, roots.branch, roots.valid)
        if bool(ok)
    )


#: Energy units for labels, largest first: (scale in eV, name).
_ENERGY_UNITS = ((1.0, "eV"), (1e-3, "meV"), (1e-6, "µeV"), (1e-9, "neV"))


def _energy_unit(span):
    """(scale, name) of the largest unit in which `span` (eV, > 0) is at least 1; neV below that."""
    span = abs(float(span))
    for scale, name in _ENERGY_UNITS:
        if span >= scale:
            return scale, name
    return _ENERGY_UNITS[-1]


def _energy(x, digits=4):
    """An energy in eV as short readable text in eV, meV, µeV or neV (e.g. `25.06 meV`)."""
    scale, name = _energy_unit(x) if x else (1.0, "eV")
    return f"{float(x) / scale:.{digits}g} {name}"


def _number(x, digits=3):
    """A dimensionless number for mathtext: plain when moderate, else `a\times10^{b}`."""
    x = float(x)
    if x == 0 or 1e-2 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    exponent = math.floor(math.log10(abs(x)))
    mantissa = float(f"{x / 10.0**exponent:.{digits}g}")
    if mantissa in (1.0, -1.0):
        return f"{'-' if mantissa < 0 else ''}10^{{{exponent}}}"
    return f"{mantissa:g}\\times10^{{{exponent}}}"


def _dispersion_words(disp):
    """The dispersion model in words with its one or two defining parameters (mathtext)."""
    f = float
    if isinstance(disp, _disp.Vacuum):
        return r"Vacuum, $\omega = k$"
    if isinstance(disp, _disp.ConstantIndex):
        return rf"Constant refractive index, $n = {f(disp.n):.4g}$"
    if isinstance(disp, _disp.LinearBand):
        return (rf"Linear band, group velocity $v_g = {_number(disp.velocity)}\,c$, "
                rf"$\omega_c$ = {_energy(f(disp.omega_c), 5)}")
    if isinstance(disp, _disp.Lorentz):
        omega_t = np.atleast_1d(np.asarray(disp.omega_T, dtype=float))
        poles = ", ".join(_energy(w) for w in omega_t[:3]) + (", …" if omega_t.size > 3 else "")
        return (rf"Lorentz medium, $\varepsilon_\infty = {f(disp.eps_inf):.4g}$, "
                rf"{omega_t.size} pole{'s' if omega_t.size != 1 else ''} at $\omega_T$ = {poles}")
    if isinstance(disp, _disp.EIT):
        return rf"EIT medium, probe $\omega_{{31}}$ = {_energy(f(disp.probe), 6)}, $\Omega_c$ = {_energy(f(disp.rabi), 3)}"
    if isinstance(disp, _disp.Stack):
        return (rf"Bragg stack at every angle (TE, TM), $n_1 = {f(disp.n1):.4g}$, $n_2 = {f(disp.n2):.4g}$, "
                rf"period {f(disp.period) / length_from_um(1.0):.4g} µm")
    if isinstance(disp, _disp.Birefringent):
        poles = disp.omega_T_perp.shape[0] + disp.omega_T_par.shape[0]
        extra = f" ({poles} lossless pole{'s' if poles != 1 else ''})" if poles else ""
        return (rf"Birefringent crystal, $\varepsilon_\perp = {f(disp.eps_perp):.4g}$, "
                rf"$\varepsilon_\parallel = {f(disp.eps_par):.4g}${extra}")
    if isinstance(disp, _disp.Bragg):
        return rf"Bragg stack, $n_1 = {f(disp.n1):.4g}$, $n_2 = {f(disp.n2):.4g}$ (effective medium)"
    if isinstance(disp, _disp.TightBinding):
        return (rf"Tight-binding band, $\omega_0$ = {_energy(f(disp.omega0), 5)}, "
                rf"hopping $J$ = {_energy(f(disp.coupling), 3)}")
    if isinstance(disp, _disp.SplineBand):
        return f"Spline band ({int(disp.knots.shape[0])} knots)"
    name = disp.describe().split(" (")[0]  # unknown model: its name, not the parameter dump
    return name[:1].upper() + name[1:]


def _momentum_words(momentum):
    """The relic momentum distribution in words (mathtext)."""
    if isinstance(momentum, Rest):
        return "relics at rest ($p = 0$)"
    if isinstance(momentum, Monochromatic):
        return rf"relics with $|p|$ = {_energy(float(momentum.momentum))}"
    if isinstance(momentum, FermiDirac):
        return rf"relic Fermi–Dirac momenta, $T_\nu$ = {float(momentum.temperature) / BOLTZMANN:.4g} K"
    if isinstance(momentum, Maxwellian):
        return rf"relic Maxwellian momenta, $\sigma$ = {_energy(float(momentum.sigma))}"
    return "relic momenta: " + momentum.describe().split(" (")[0]


def figure_title(model):
    """Fig. 2's title: the dispersion in words (line 1); the transition and the momenta (line 2)."""
    nu = model.neutrinos
    transition = rf"$\nu_{{{nu.initial}}} \to \nu_{{{nu.final}}}$"
    words = _dispersion_words(model.dispersion)
    if model.grating is not None:
        g = model.grating
        words += rf", grating $D$ = {_energy(float(g.wavenumber))}, $h = {float(g.depth):.3g}$"
        if g.tilted():
            words += rf" at {math.degrees(float(g.angle)):.3g}° to the axis"
    return f"{words}\n{transition}, {_momentum_words(model.momentum)}"


def fig2_data(model, n_k=801, n_branch=1500):
    """Curves, band, intersections and zoom window of the Fig. 2 picture for `model`.

    **Arguments:** `model`: a `rates.RateModel`; `n_k`, `n_branch`: samples of the
    energy-transfer grid and of each dispersion branch.

    **Returns:** `Fig2Data`. Raises `ValueError` when the dispersion has no
    root at p = 0 (nothing to draw an intersection for).
    """
    nu = model.neutrinos
    m_i, m_j = float(nu.m_initial), float(nu.m_final)
    p_lo, p_mid, p_hi = momentum_quantiles(model.momentum)
    rest = rest_roots(model)
    if not bool(np.any(rest.valid)):
        raise ValueError(
            f"dispersion: {model.dispersion.describe()} has no photon root at p = 0 in its window; "
            "nothing to intersect"
        )
    at_rest = _intersections(model, 0.0, 0.0)
    central = _intersections(model, p_mid, 0.0) if p_mid > 0 else ()
    k0, w0 = at_rest[0].k, at_rest[0].omega

    # Main panel: from k = 0 to past the p = 0 intersection and the band's top edge.
    k_max = 1.6 * max(k0, m_i - m_j)
    k = np.linspace(0.0, k_max, n_k)
    rest_curve = energy_transfer(k, m_i, m_j, 0.0, 0.0)
    mid_curve = energy_transfer(k, m_i, m_j, p_mid, 0.0)
    lo, hi = _band(k, m_i, m_j, p_lo, p_hi)

    w_top = 1.15 * max(float(np.max(hi)), w0)
    branches = tuple(_branch_curve(b, (0.0, k_max), (0.0, w_top), n_branch) for b in model.dispersion.branches())

    # Inset: the k range the band sweeps through E_vg, and the resonance.
    energy = float(level_spacing(model))
    gamma = 0.5 * float(model.medium.width)
    lo0, hi0 = _band(np.array([k0]), m_i, m_j, p_lo, p_hi)
    slope = abs(float(k0 / np.sqrt(m_j**2 + k0**2))) if k0 > 0 else 1.0
    dk = max(0.75 * float(hi0[0] - lo0[0]) / max(slope, 1e-12), 20 * gamma)
    v_g = abs(float(rest.group_velocity[0]))  # roots are sorted valid-first
    domega = max(4.0 * gamma, 1.3 * v_g * dk)
    dk, domega = _fit_narrow_branch(model.dispersion.branches()[at_rest[0].branch], k0, energy, dk, domega, gamma)
    zoom_branches = tuple(
        _branch_curve(b, (k0 - 1.5 * dk, k0 + 1.5 * dk), (energy - 1.5 * domega, energy + 1.5 * domega), 801)
        for b in model.dispersion.branches()
    )
    title = figure_title(model)
    three_d = contour_data(model, energy, (p_lo, p_hi), (0.0, w_top)) if needs_three_d(model) else None
    return Fig2Data(
        branches=branches, zoom_branches=zoom_branches, k=k, rest=rest_curve, central=mid_curve, band_lo=lo, band_hi=hi,
        momenta=(p_lo, p_mid, p_hi), intersections=at_rest + central,
        level_spacing=energy, width=2 * gamma, zoom=(k0, dk, energy, domega), masses=(m_i, m_j), title=title,
        three_d=three_d,
    )


def contour_data(model, energy, momenta, w_range, n=400):
    """The `Contours` of `model` at the level spacing `energy` (eV), for |p| in `momenta` (eV)."""
    nu = model.neutrinos
    m_i, m_j = float(nu.m_initial), float(nu.m_final)
    medium = as_uniaxial(model.dispersion)
    # Compiled once per mode type: op by op, the band-edge bisections dispatch thousands of small ops.
    interval = jax.jit(lambda mode, w: mode.perp_interval(w))
    axial = jax.jit(lambda mode, w, s: mode.axial_wavenumber(w, s))
    p = np.linspace(momenta[0], momenta[1], 201)
    k_r = np.sqrt(np.maximum((np.sqrt(m_i**2 + p**2) - energy) ** 2 - m_j**2, 0.0))
    rest = float(np.sqrt(max((m_i - energy) ** 2 - m_j**2, 0.0)))
    shell = (float(np.min(np.abs(k_r - p))), rest, float(np.max(k_r + p)))
    shells = [(float(g), 0.0 if perp is None else float(perp), *shell) for g, perp, _ in grating_terms(model)]
    if any(sh[1] for sh in shells):
        # Drawn in the plane of the axis and G: the -D term's centre is the mirror of +D's.
        shells[2] = (-shells[1][0], -shells[1][1], *shell)
    # Open (hyperbolic) contours are drawn out to beyond the farthest shell.
    reach = 1.5 * max(float(np.hypot(g, g_perp)) + shell[2] for g, g_perp, *_ in shells)
    across, contours = [], []
    for mode in medium.modes():
        label = mode.describe()
        lo, hi = (float(x) for x in mode.omega_window())
        omega = np.linspace(max(lo, w_range[0]), min(hi, w_range[1]), n)[1:]
        _, s_hi, _, _ = (np.asarray(x) for x in interval(mode, jnp.asarray(omega)))
        keep = (s_hi > 0) & (s_hi < S_FAR)
        across.append((label, np.sqrt(s_hi[keep]), omega[keep]))
        s_lo, s_top, _, _ = (float(x[0]) for x in interval(mode, jnp.asarray([energy])))
        s_top = min(s_top, max(reach**2, s_lo))
        if s_top > s_lo:
            s = np.linspace(s_lo, s_top, n)
            kz = np.asarray(axial(mode, jnp.asarray(energy), jnp.asarray(s)))
            contours.append((label, np.sqrt(s), kz))
    return Contours(tuple(across), tuple(contours), tuple(shells))


def _fit_narrow_branch(branch, k0, energy, dk, domega, gamma):
    """Shrink the inset onto the resonant branch when all of it fits inside (e.g. EIT's narrow window)."""
    a, b = (float(x) for x in branch.omega_window())
    omega = np.linspace(max(a, energy - domega), min(b, energy + domega), 2001)
    k = np.asarray(branch.wavenumber(jnp.asarray(omega)))
    span_k = float(np.max(np.abs(k - k0)))
    span_w = float(np.max(np.abs(omega - energy)))
    if span_k < 0.5 * dk and span_w < 0.5 * domega:
        return 1.3 * span_k, max(4.0 * gamma, 1.3 * span_w)
    return dk, domega


def _branch_curve(branch, k_range, w_range, n):
    """(k, omega) samples of a branch inside the box k_range x w_range.

    Bands given as omega(k) are sampled in k (a flat band spans a wide k range
    in a narrow omega range); the others (Lorentz, EIT, Bragg) in omega.
    """
    if isinstance(branch, AbstractBandInK):
        lo = max(k_range[0], float(branch.k_min))
        hi = min(k_range[1], float(branch.k_max))
        k = np.linspace(lo, hi, n) if hi > lo else np.zeros(0)
        omega = np.asarray(branch.omega(jnp.asarray(k)))
    else:
        a, b = (float(x) for x in branch.omega_window())
        lo, hi = max(a, w_range[0]), min(b, w_range[1])
        omega = np.linspace(lo, hi, 16 * n) if hi > lo else np.zeros(0)
        k = np.asarray(branch.wavenumber(jnp.asarray(omega)))
        if omega.size:
            # Keep n points evenly spaced along the drawn curve (in units of the box), so
            # that steep stretches (EIT's Autler-Townes lines) are drawn as finely as flat ones.
            inside = (k >= k_range[0]) & (k <= k_range[1])
            step = np.hypot(np.diff(k) / (k_range[1] - k_range[0]), np.diff(omega) / (w_range[1] - w_range[0]))
            arc = np.concatenate([[0.0], np.cumsum(np.where(inside[1:] | inside[:-1], step, 0.0))])
            pick = np.unique(np.searchsorted(arc, np.linspace(0.0, arc[-1], n)).clip(0, omega.size - 1))
            omega, k = omega[pick], k[pick]
    keep = (k >= k_range[0]) & (k <= k_range[1]) & (omega >= w_range[0]) & (omega <= w_range[1])
    return k[keep], omega[keep]


def _band(k, m_i, m_j, p_lo, p_hi, n_p=201):
    """min and max of Delta E(k; p, c) over p in [p_lo, p_hi], c in [-1, 1] (extremes at c = +-1)."""
    p = np.linspace(p_lo, p_hi, n_p)[:, None]
    low = energy_transfer(k[None, :], m_i, m_j, p, -1.0).min(axis=0)
    high = energy_transfer(k[None, :], m_i, m_j, p, 1.0).max(axis=0)
    return low, high


def draw_fig2(data: Fig2Data, path=None, style=None):
    """Draw `data` (Fig. 2 with a zoomed inset); save to `path` (PNG/PDF/SVG by extension).

    **Returns:** the matplotlib `Figure` (left open: close it with `plt.close`).
    """
    from .plots import figure_style, secondary_axes

    import matplotlib.pyplot as plt

    with figure_style(style):
        if data.three_d is None:
            fig, ax = plt.subplots(figsize=(7.0, 5.2))
        else:
            fig, (ax, side) = plt.subplots(1, 2, figsize=(13.0, 5.4), width_ratios=(1.25, 1.0))
            _draw_contours(side, data)
        ax.fill_between(data.k, data.band_lo, data.band_hi, color="tab:orange", alpha=0.25, lw=0,
                        label=r"$E_i - E'_j(k)$, 5–95% of $|p|$")
        ax.plot(data.k, data.central, color="tab:orange", lw=1.6,
                label=rf"$E_i - E'_j(k)$, $|p| = {data.momenta[1]:.2g}$ eV, $c = 0$")
        ax.plot(data.k, data.rest, color="tab:red", lw=1.0, ls=":", label=r"$E_i - E'_j(k)$, $p = 0$")
        ax.plot(data.k, data.k, color="0.4", lw=1.0, ls="--", label=r"vacuum $\omega = k$")
        for i, (kk, ww) in enumerate(data.branches):
            ax.plot(kk, ww, color="tab:blue", lw=1.8, zorder=_Z_DISPERSION, gid="dispersion",
                    label=("medium $\\omega(k)$" if data.three_d is None else "$\\omega(k)$ along the axis")
                    if i == 0 else None)
        if data.three_d is not None:
            for i, (label, kk, ww) in enumerate(data.three_d.across):
                ax.plot(kk, ww, color=_MODE_COLORS[i % len(_MODE_COLORS)], lw=1.2, ls="-.", zorder=_Z_DISPERSION,
                        gid="across", label=f"{label}: across the axis ($k_\\perp$, contour's far end)")
        ks = [x.k for x in data.intersections]
        ws = [x.omega for x in data.intersections]
        ax.plot(ks, ws, ls="none", marker="o", ms=5, mfc="white", mec="k", mew=1.2, label="intersections",
                gid="intersections", zorder=_Z_MARKERS)
        ax.axhline(data.level_spacing, **_LEVEL_STYLE, label=r"$E_{vg}$ (level spacing)")
        ax.set_xlim(0.0, data.k[-1])
        top = 1.15 * max(float(np.max(data.band_hi)), data.level_spacing)
        ax.set_ylim(0.0, top)
        ax.set_xlabel(r"photon wavenumber $k$ [eV]")
        ax.set_ylabel(r"photon energy $\omega$ [eV]")
        ax.set_title(data.title, fontsize="small")
        secondary_axes(ax)
        ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
        _inset(ax, data)
        if path is not None:
            fig.savefig(path)
    return fig


#: z-orders: the dispersion curves, then the E_vg line above them, then the markers.
_Z_DISPERSION = 2.0
_Z_MARKERS = 4.0
#: The E_vg line (main axes and inset): dashed magenta, drawn above the dispersion curves.
_LEVEL_STYLE = dict(color="#d0007a", lw=1.2, ls=(0, (5, 2.5)), zorder=3.0, gid="E_vg")


_MODE_COLORS = ("tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:pink", "tab:gray")


def _draw_contours(ax, data: Fig2Data):
    """Iso-frequency contours at E_vg in the (k_perp, k_z) plane, with the kinematic shells.

    Where a contour runs inside a shell, photons in those directions are on
    resonance for relic momenta between the 5% and 95% points.
    """
    three_d = data.three_d
    # A tilted grating breaks the symmetry about the axis: draw the whole plane of the axis and G.
    tilted = any(sh[1] for sh in three_d.shells)
    theta = np.linspace(-np.pi, np.pi, 1441) if tilted else np.linspace(-0.5 * np.pi, 0.5 * np.pi, 721)
    reach = [0.0]
    for j, (g, g_perp, r_lo, r_rest, r_hi) in enumerate(three_d.shells):
        # The annulus r_lo <= |k - G| <= r_hi (its polar band in k_perp >= 0 when G is on the axis).
        outer = np.stack([g_perp + r_hi * np.cos(theta), g + r_hi * np.sin(theta)])
        inner = np.stack([g_perp + r_lo * np.cos(theta[::-1]), g + r_lo * np.sin(theta[::-1])])
        ring = np.concatenate([outer, inner], axis=1)
        ax.fill(ring[0], ring[1], color="tab:orange", alpha=0.22, lw=0, gid="shell",
                label=r"kinematic shell, 5–95% of $|p|$" if j == 0 else None)
        ax.plot(g_perp + r_rest * np.cos(theta), g + r_rest * np.sin(theta), color="tab:red", lw=0.9, ls=":",
                label=r"$|k - G|$ of the $p = 0$ photon" if j == 0 else None)
        reach.append(float(np.hypot(g, g_perp)) + r_hi)
    for i, (label, kp, kz) in enumerate(three_d.contours):
        color = _MODE_COLORS[i % len(_MODE_COLORS)]
        ax.plot(kp, kz, color=color, lw=1.8, gid="contour", label=f"{label} at $E_{{vg}}$")
        if tilted:
            ax.plot(-kp, kz, color=color, lw=1.8, gid="contour")
        reach.append(float(np.max(np.hypot(kp, kz))) if kp.size else 0.0)
    top = 1.1 * max(reach)
    ax.set_xlim(-top if tilted else 0.0, top)
    ax.set_ylim(-top if len(three_d.shells) > 1 else 0.0, top)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(r"$k_\perp$ [eV]")
    ax.set_ylabel(r"$k_z$ (along the axis) [eV]")
    ax.set_title("iso-frequency contours at $E_{vg}$ and the relic shell", fontsize="small")
    ax.legend(loc="upper right", fontsize="x-small", framealpha=0.9)


def _inset(ax, data: Fig2Data):
    """Zoom on the p = 0 intersection, in offsets from (k0, E_vg): the flat band against Gamma_v.

    The offsets are drawn in a unit picked from the zoom's span (eV, meV, µeV or
    neV), named in the axis labels together with k0, with no offset text. When
    the Gamma_v window is narrower than about one pixel of the saved inset (or
    thinner than the E_vg line drawn over it), the title says so instead of
    pointing at an invisible green window.
    """
    k0, dk, w0, dw = data.zoom
    sx, ux = _energy_unit(dk)
    sy, uy = _energy_unit(dw)
    inset = ax.inset_axes([0.60, 0.08, 0.37, 0.40])
    k = np.linspace(k0 - dk, k0 + dk, 401)
    # Re-evaluate the band on the zoomed grid (the main grid is far too coarse here).
    lo, hi = _band(k, *data.masses, data.momenta[0], data.momenta[2])
    inset.fill_between((k - k0) / sx, (lo - w0) / sy, (hi - w0) / sy, color="tab:orange", alpha=0.25, lw=0)
    half = 0.5 * data.width / sy
    inset.axhspan(-half, half, color="tab:green", alpha=0.3, lw=0, gid="width")
    for kk, ww in data.zoom_branches:
        inset.plot((kk - k0) / sx, (ww - w0) / sy, color="tab:blue", lw=1.8, zorder=_Z_DISPERSION, gid="dispersion")
    inset.axhline(0.0, **_LEVEL_STYLE)
    near = [x for x in data.intersections if abs(x.k - k0) <= dk and abs(x.omega - w0) <= dw]
    inset.plot([(x.k - k0) / sx for x in near], [(x.omega - w0) / sy for x in near], ls="none", marker="o", ms=4,
               mfc="white", mec="k", zorder=_Z_MARKERS)
    inset.set_xlim(-dk / sx, dk / sx)
    inset.set_ylim(-dw / sy, dw / sy)
    # k0 to a few digits beyond the zoom's resolution.
    digits = max(5, math.ceil(math.log10(max(k0 / dk, 1.0))) + 4)
    inset.set_xlabel(rf"$k - k_0$ [{ux}],  $k_0$ = {_energy(k0, digits)}", fontsize="x-small")
    inset.set_ylabel(rf"$\omega - E_{{vg}}$ [{uy}]", fontsize="x-small")
    inset.tick_params(labelsize="x-small")
    inset.ticklabel_format(axis="both", style="plain", useOffset=False)
    gamma = rf"$\Gamma_v$ = {_energy(data.width, 2)}"
    inset.set_title(rf"zoom: {gamma} window (green)", fontsize="x-small")
    pixels, line_pixels = _window_pixels(inset, data.width / (2.0 * dw))
    if pixels < 1.0:
        inset.set_title(rf"zoom: {gamma} window" "\n" r"(narrower than a pixel, at the $E_{vg}$ line)",
                        fontsize="x-small")
    elif pixels < line_pixels:
        inset.set_title(rf"zoom: {gamma} window" "\n" r"(green, thinner than the $E_{vg}$ line over it)",
                        fontsize="x-small")
    return inset


def _window_pixels(inset, fraction):
    """Heights in saved-image pixels of `fraction` of the inset's y range and of the E_vg line's width.

    Measured after a layout pass (constrained layout places the inset at draw time).
    """
    import matplotlib

    fig = inset.figure
    fig.draw_without_rendering()
    dpi = matplotlib.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    return fraction * inset.get_window_extent().height * dpi / fig.dpi, _LEVEL_STYLE["lw"] * dpi / 72.0


def fig2(model, path=None, style=None):
    """`fig2_data` then `draw_fig2`. **Returns:** `(Fig2Data, Figure)`."""
    data = fig2_data(model)
    return data, draw_fig2(data, path, style)


