"""Seeded random designs for accuracy audits: scenario overrides per dispersion model.

    designs(model_name, n, seed) -> [ {dotted key: value, ...}, ... ]
    free_keys(model_name, design=None) -> [dotted key, ...]

Every design is a small dict of overrides of the default scenario (NO, nu_3 -> nu_1,
m_1 = 0, M1, Fermi-Dirac; vacuum photon energy at rest ~0.0250649 eV) with
`medium.level_spacing_eV = "resonant"` (the default) and a `medium.detuning_eV`:

* design i with i % 3 == 0: "random"  -- |detuning| log-uniform in [1e-10, 1e-4] eV, either sign;
* i % 3 == 1: "edge" -- E_vg within +-3 resonance half widths (Gamma_v / 2 ~ 3e-8 eV) of a
  band edge / zone edge / omega_L / omega_T / EIT line / spline knot (vacuum, index: of
  the p = 0 root itself);
* i % 3 == 2: "gap"  -- E_vg inside a stop band (bragg, lorentz), above or below the band
  (linear-band, tight-binding, spline, outside the EIT window); vacuum, index: far
  detuned (1e-4 .. 1e-3 eV).

Band parameters are drawn so that the p = 0 photon root lies in a band; each draw is
checked with the independent reference's branches (`tests/independent.py`, NumPy),
which also give the edges, and a draw without a p = 0 root is drawn again. Lists are
used only where the scenario needs them (`dispersion.poles`, spline knots and velocities).
Non-continuous choices (pole count, knots, EIT window) come from small sets, so designs
group into few templates (`template_key`) whose continuous keys (`continuous`) vary inside
jit (`cnbfluor.scenario.with_parameters`); linear-band and index designs give a fixed explicit
k window for the same reason (the default window follows the band parameters at build time).
"""

import math

import numpy as np

from tests import independent as _ind
from cnbfluor.rates import constants as _const
from cnbfluor.rates.neutrino import NUFIT_6_0 as _NUFIT

MODELS = ("vacuum", "index", "linear-band", "lorentz", "tight-binding", "eit", "bragg-isotropic", "spline")
CATEGORIES = ("random", "edge", "gap")

M3 = math.sqrt(_NUFIT["NO"]["dm3l_eV2"])  # m_3 with m_1 = 0, eV
OMEGA_VAC = 0.5 * M3  # vacuum photon energy at rest, ~0.0250649 eV
UM = 1e-6 / _const.HBAR_C_M  # 1 micrometre in 1/eV (~5.0677)

#: Spline knot layouts (offsets from the centre knot pair, eV): few, so that designs share templates.
SPLINE_LAYOUTS = (
    (0.0245, 0.02503, 0.0251, 0.0256),
    (0.0249, 0.025055, 0.025075, 0.0252),
    (0.02, 0.0248, 0.0253, 0.03),
)
#: EIT windows: half widths (eV), the smallest >= 3 Omega_c is used.
EIT_HALF_WIDTHS = (3e-7, 3e-6, 3e-5)
#: Linear-band k window (eV), the same for every design.
LINEAR_WINDOW = (0.0235, 0.0265)


def _loguniform(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _half_width(tau_ns):
    """Gamma_v / 2 (eV) for a coherence time in ns."""
    return 0.5 * _const.HBAR / (tau_ns * 1e-9)


def _scenario_dispersion(design):
    from cnbfluor.scenario import default_scenario
    from cnbfluor.scenario._build import _dispersion_model

    scenario = default_scenario().replace(design)
    return _dispersion_model(scenario, M3)


def _rest_roots(branches):
    """Photon energies of the p = 0 roots (omega + Re k(omega) = m_3, m_1 = 0), lowest first."""
    from scipy import optimize

    roots = []
    for br in branches:
        lo, hi = br.lo, br.hi
        if not hi > lo:
            continue
        g = lambda w, br=br: w + br.k(w) - M3  # noqa: E731
        span = hi - lo
        grid = np.unique(np.concatenate([
            np.linspace(lo, hi, 401),
            lo + span * np.geomspace(1e-12, 1e-2, 60),
            hi - span * np.geomspace(1e-12, 1e-2, 60),
        ]))
        grid = grid[(grid >= lo) & (grid <= hi)]
        vals = np.array([g(w) for w in grid])
        for i in range(len(grid) - 1):
            if vals[i] == 0.0:
                roots.append(float(grid[i]))
            elif vals[i] * vals[i + 1] < 0:
                roots.append(optimize.brentq(g, grid[i], grid[i + 1], xtol=1e-22, rtol=1e-15))
        if vals[-1] == 0.0:
            roots.append(float(grid[-1]))
    return sorted(roots)


# ------------------------------------------------------------------ model draws
# Each returns (design without detuning, edges [eV], gaps [(lo, hi)] in eV) or None to redraw.

def _vacuum(rng):
    return {}, [], []


def _index(rng):
    return {"dispersion.model": "index", "dispersion.n": round(rng.uniform(1.0, 3.0), 6), "dispersion.k_max_eV": 0.2}, [], []


def _linear_band(rng):
    v = _loguniform(rng, 1e-7, 1.0)
    k_c = rng.uniform(0.0245, 0.0256)
    offset = rng.uniform(-1e-4, 1e-4) * v  # root at k_c - offset / (1 + v)
    omega = M3 - k_c + offset
    below, above = k_c - LINEAR_WINDOW[0], LINEAR_WINDOW[1] - k_c
    d = {"dispersion.model": "linear-band", "dispersion.omega_eV": omega, "dispersion.k_eV": k_c,
         "dispersion.group_velocity": v, "dispersion.k_min_eV": LINEAR_WINDOW[0], "dispersion.k_max_eV": LINEAR_WINDOW[1]}
    lo, hi = omega - v * below, omega + v * above
    return d, [lo, hi], [(lo - 1e-4, lo), (hi, hi + 1e-4)]


def _tight_binding(rng):
    coupling = _loguniform(rng, 1e-8, 1e-4)
    phase = rng.uniform(0.02, 0.98) * math.pi if rng.random() < 0.8 else (
        float(rng.choice([1e-3, 1.0 - 1e-3])) * math.pi)  # a fifth near the zone centre / edge
    k_r = rng.uniform(0.0249, 0.0252)
    period = phase / k_r  # 1/eV
    omega0 = M3 - k_r + 2.0 * coupling * math.cos(phase)
    d = {"dispersion.model": "tight-binding", "dispersion.omega0_eV": omega0,
         "dispersion.coupling_eV": coupling, "dispersion.period_um": period / UM}
    lo, hi = omega0 - 2 * coupling, omega0 + 2 * coupling
    return d, [lo, hi], [(lo - 1e-4, lo), (hi, hi + 1e-4)]


def _eit(rng):
    rabi = _loguniform(rng, 1e-8, 1e-5)
    kappa = _loguniform(rng, 1e-14, 1e-8)
    g31 = _loguniform(rng, 1e-9, 1e-6)
    probe = OMEGA_VAC + rng.uniform(-0.3, 0.3) * rabi
    hw = next((h for h in EIT_HALF_WIDTHS if h >= 3 * rabi), EIT_HALF_WIDTHS[-1])
    d = {"dispersion.model": "eit", "dispersion.probe_eV": probe, "dispersion.coupling_strength_eV": kappa,
         "dispersion.rabi_eV": rabi, "dispersion.excited_decay_eV": g31, "dispersion.half_width_eV": hw}
    d["dispersion.ground_dephasing_eV"] = 0.0 if rng.random() < 2 / 3 else _loguniform(rng, 1e-12, 1e-9)
    edges = [probe, probe - 0.5 * rabi, probe + 0.5 * rabi]
    return d, edges, [(probe - hw - 1e-4, probe - hw), (probe + hw, probe + hw + 1e-4)]


def _lorentz(rng):
    n_poles = 1 if rng.random() < 0.6 else 2
    omega_t = sorted(rng.uniform(0.01, 0.045, n_poles))
    if n_poles == 2 and omega_t[1] - omega_t[0] < 1e-3:
        return None
    poles = []
    lossy = rng.random() < 0.5  # every pole lossy or none (fewer templates)
    for w in omega_t:
        strong = rng.random() < 0.5
        de = _loguniform(rng, 0.05, 10.0) if strong else _loguniform(rng, 1e-7, 0.05)
        gamma = _loguniform(rng, 1e-11, 1e-7) if lossy else 0.0
        poles.append({"delta_eps": de, "omega_T_eV": float(w), "gamma_eV": gamma})
    d = {"dispersion.model": "lorentz", "dispersion.eps_inf": rng.uniform(1.0, 3.0), "dispersion.poles": poles}
    return d, None, None  # edges and gaps from the branches


def _bragg(rng):
    n1, n2 = rng.uniform(1.2, 3.0), rng.uniform(1.0, 1.5)
    quarter = rng.random() < 1 / 3
    frac = 0.5 if quarter else rng.uniform(0.2, 0.8)  # share of the optical thickness in layer 1
    # Root phase K Lambda: band 0 below pi, band 1 between pi and 2 pi.
    phase = rng.uniform(0.1, 0.85) * math.pi if rng.random() < 0.5 else rng.uniform(1.15, 1.9) * math.pi
    n_eff = frac * n1 + (1 - frac) * n2  # rough; the root is checked below
    omega_r = M3 / (1.0 + n_eff)
    optical = phase / omega_r  # n1 d1 + n2 d2 ~ K Lambda / omega
    d1, d2 = frac * optical / n1, (1 - frac) * optical / n2
    d = {"dispersion.model": "bragg-isotropic", "dispersion.n1": round(n1, 6), "dispersion.n2": round(n2, 6),
         "dispersion.d1_um": d1 / UM, "dispersion.d2_um": d2 / UM}
    return d, None, None


def _spline(rng):
    knots = list(SPLINE_LAYOUTS[int(rng.integers(len(SPLINE_LAYOUTS)))])
    vel = [_loguniform(rng, 1e-7, 1.0) for _ in knots]
    # omega_eV (at the first knot) so that the p = 0 root sits at k_r in [k_0, k_3].
    k_r = rng.uniform(knots[0], knots[-1])
    acc = 0.0
    for a, b, va, vb in zip(knots, knots[1:], vel, vel[1:]):
        if k_r <= a:
            break
        t = min(k_r, b) - a
        acc += va * t + 0.5 * (vb - va) / (b - a) * t * t
    omega0 = M3 - k_r - acc
    if not omega0 > 0:
        return None
    d = {"dispersion.model": "spline", "dispersion.k_knots_eV": knots, "dispersion.group_velocities": vel,
         "dispersion.omega_eV": omega0}
    return d, None, None


DRAWS = {"vacuum": _vacuum, "index": _index, "linear-band": _linear_band, "lorentz": _lorentz,
         "tight-binding": _tight_binding, "eit": _eit, "bragg-isotropic": _bragg, "spline": _spline}


def _edges_and_gaps(name, branches):
    """Band edges and open stop bands (eV) from the reference's branch windows."""
    windows = [(b.lo, b.hi) for b in branches]
    if name == "spline":
        lo, hi = windows[0]
        return [lo, hi, *branches[0].breaks], [(lo - 1e-4, lo), (hi, hi + 1e-4)]
    edges, gaps = [], []
    for i, (lo, hi) in enumerate(windows):
        if i > 0:
            edges.append(lo)
        if i < len(windows) - 1 or name == "bragg-isotropic":
            edges.append(hi)  # the top of the last Bragg band is a real gap edge too
    for (_, hi), (lo, _) in zip(windows, windows[1:]):
        if lo - hi > 1e-12:
            gaps.append((hi, lo))
    return edges, gaps


def _detuning(rng, category, root, edges, gaps, half):
    if category == "edge" and edges:
        target = float(edges[int(rng.integers(len(edges)))])
        return target + rng.uniform(-3.0, 3.0) * half - root
    if category == "edge":  # no edges: near resonance
        return rng.uniform(-3.0, 3.0) * half
    if category == "gap" and gaps:
        lo, hi = gaps[int(rng.integers(len(gaps)))]
        width = hi - lo
        depth = _loguniform(rng, min(0.1 * half, 0.5 * width), max(0.5 * width, 0.1 * half * 1.0001))
        depth = min(depth, 0.5 * width)
        target = lo + depth if rng.random() < 0.5 else hi - depth
        return target - root
    if category == "gap":  # no gaps: far detuned
        return (1 if rng.random() < 0.5 else -1) * _loguniform(rng, 1e-4, 1e-3)
    return (1 if rng.random() < 0.5 else -1) * _loguniform(rng, 1e-10, 1e-4)


def design_category(index):
    """"random", "edge" or "gap" for design number `index` of a `designs` list."""
    return CATEGORIES[index % 3]


def designs(model_name, n, seed=0):
    """`n` seeded designs (dicts of scenario overrides) for one dispersion model."""
    if model_name not in DRAWS:
        raise ValueError(f"unknown model {model_name!r}; allowed: {', '.join(MODELS)}")
    rng = np.random.default_rng([seed, MODELS.index(model_name)])
    out = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 50 * n + 100:
            raise RuntimeError(f"{model_name}: too many draws without a p = 0 root")
        drawn = DRAWS[model_name](rng)
        if drawn is None:
            continue
        design, edges, gaps = drawn
        tau = _loguniform(rng, 3.0, 30.0)
        try:
            branches = _ind.branches_of(_scenario_dispersion(design))
        except (ValueError, ArithmeticError):  # ScenarioError (a ValueError) and numerics: draw again
            continue
        roots = _rest_roots(branches)
        if not roots:
            continue
        root = roots[0]
        if edges is None:
            edges, gaps = _edges_and_gaps(model_name, branches)
        category = design_category(len(out))
        detuning = _detuning(rng, category, root, edges, gaps, _half_width(tau))
        if not root + detuning > 0:
            continue
        design = dict(design)
        design["medium.coherence_time_ns"] = round(tau, 4)
        design["medium.detuning_eV"] = float(detuning)
        out.append(design)
    return out


_FREE = {
    "vacuum": [],
    "index": ["dispersion.n"],
    "linear-band": ["dispersion.group_velocity", "dispersion.omega_eV", "dispersion.k_eV"],
    "lorentz": ["dispersion.eps_inf"],
    "tight-binding": ["dispersion.omega0_eV", "dispersion.coupling_eV", "dispersion.period_um"],
    "eit": ["dispersion.probe_eV", "dispersion.coupling_strength_eV", "dispersion.rabi_eV", "dispersion.excited_decay_eV"],
    "bragg-isotropic": ["dispersion.n1", "dispersion.n2", "dispersion.d1_um", "dispersion.d2_um"],
    "spline": ["dispersion.omega_eV"] + [f"dispersion.group_velocities.{i}" for i in range(4)],
}


def free_keys(model_name, design=None):
    """Continuous keys to differentiate: detuning, coherence time and the model's own parameters.

    Lorentz: per pole delta_eps and omega_T (and gamma when > 0) for the poles of
    `design` (one lossless pole without it). EIT's gamma_21 (often 0) varies but is not differentiated.
    """
    keys = ["medium.detuning_eV", "medium.coherence_time_ns", *_FREE[model_name]]
    if model_name == "lorentz":
        poles = (design or {}).get("dispersion.poles", [{"gamma_eV": 0.0}])
        for i, pole in enumerate(poles):
            keys += [f"dispersion.poles.{i}.delta_eps", f"dispersion.poles.{i}.omega_T_eV"]
            if pole.get("gamma_eV", 0.0) > 0:
                keys.append(f"dispersion.poles.{i}.gamma_eV")
    return keys


def key_value(design, key):
    """The value of a free key in a design (None: the default scenario's)."""
    parts = key.split(".")
    if parts[:2] == ["dispersion", "poles"]:
        return design["dispersion.poles"][int(parts[2])][parts[3]]
    if parts[:2] == ["dispersion", "group_velocities"]:
        return design["dispersion.group_velocities"][int(parts[2])]
    return design.get(key)


def free_values(design, keys, scenario=None):
    """Values (TOML units) of `keys` for a design; defaults from `scenario` (the built one)."""
    out = []
    for key in keys:
        value = key_value(design, key)
        if value is None:
            value = scenario.value(key)
        out.append(float(value))
    return out


def continuous(design):
    """The design's continuous values as `with_parameters` keys (poles and knot velocities flattened)."""
    from cnbfluor.scenario import PARAMETERS

    out = {}
    for key, value in design.items():
        if key == "dispersion.poles":
            for i, pole in enumerate(value):
                for field, v in pole.items():
                    out[f"dispersion.poles.{i}.{field}"] = float(v)
        elif key == "dispersion.group_velocities":
            for i, v in enumerate(value):
                out[f"dispersion.group_velocities.{i}"] = float(v)
        elif key in PARAMETERS and not isinstance(value, (str, list)):
            out[key] = float(value)
    return out


def template_key(model_name, design):
    """Designs with equal keys share a template: same structure (model, pole count, knots,
    windows, EIT half width) and the same continuous and free keys."""
    cont = continuous(design)
    fixed = tuple(sorted((k, repr(v)) for k, v in design.items()
                         if k not in cont and k not in ("dispersion.poles", "dispersion.group_velocities")))
    return (model_name, fixed, tuple(sorted(cont)), tuple(free_keys(model_name, design)))
