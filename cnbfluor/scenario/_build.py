"""A validated `Scenario` -> `RateModel` (natural units), and free keys written inside `jit`.

`build_model` converts every key through its row of the key table (units ->
eV); `with_parameters` writes continuous keys (TOML units, JAX scalars
allowed) into a built model, so a scenario is validated once and the hot
path of the optimiser and the scans stays pure JAX.
"""

import math
import types

from .. import dispersion as _dispersion
from ..errors import ScenarioError
from ..rates.average import Quadrature, RateModel, rest_roots
from ..rates.channels import Grating, Medium
from ..rates.detection import Detector
from ..rates.momentum import DISTRIBUTIONS
from ..rates.neutrino import NeutrinoSector
from ._keys import BY_NAME, ITEM_FIELDS, KEYS, item_key
from ._scenario import CONDITIONAL, Scenario, _masses


def _dispersion_model(scenario: Scenario, m_initial: float):
    """The dispersion pytree: every applicable `[dispersion]` row with a field gives the
    constructor argument of that name (in natural units); windows and defaults that
    depend on other keys are filled in here."""
    s = scenario
    name = s["dispersion.model"]
    params = {}
    for row in KEYS:
        path = row.path(name)
        if row.table == "dispersion" and path is not None and row.applies(s.values) and row.name in s.values:
            params[path[-1]] = row.to_natural(s[row.name], None)
    kmin, kmax = params.pop("k_min", None), params.pop("k_max", None)
    if kmin is None and "dispersion.k_min_eV" in s.values:
        kmin = s["dispersion.k_min_eV"]
    if kmax is None and "dispersion.k_max_eV" in s.values:
        kmax = s["dispersion.k_max_eV"]
    # Photon energies stay below m_i (plus the momentum spread), so these
    # windows contain every root; a linear band is kept at omega > omega_c / 2.
    if name == "vacuum":
        default = (0.0, 2.0 * m_initial)
    elif name == "index":
        default = (0.0, 2.0 * m_initial * params["n"])
    elif name == "linear-band":
        w, k, v = params["omega_c"], params["k_c"], params["velocity"]
        default = (max(0.0, k - 0.5 * w / v), k + 2.0 * m_initial / v)
    elif name == "tight-binding":
        period = params["period"]
        if kmin is not None and not kmin < (math.pi / period if kmax is None else kmax):
            raise ScenarioError(f"dispersion.k_min_eV: window [{kmin}, {kmax if kmax is not None else math.pi / period}] eV is empty")
        # Ends left open are the zone edges and follow the period when it varies.
        return _dispersion.make_dispersion(name, k_min=kmin, k_max=kmax, **params)
    elif name == "eit":
        params.setdefault("half_width", 5.0 * params["rabi"])
        return _dispersion.make_dispersion(name, **params)
    elif name in ("bragg", "bragg-isotropic"):
        return _dispersion.make_dispersion(name, n_bands=s["dispersion.bands"], **params)
    elif name == "birefringent":
        # Photon energies stay below m_i plus the momentum spread.
        omega_max = 2.0 * m_initial
        for axis in ("perp", "par"):
            poles = s.get(f"dispersion.poles_{axis}", [])
            if poles and not omega_max > poles[-1]["omega_T_eV"]:
                raise ScenarioError(
                    f"dispersion.poles_{axis}.{len(poles) - 1}.omega_T_eV: must lie below 2 m_i = {omega_max:.6g} eV "
                    f"(the photon energies a relic neutrino reaches), got {poles[-1]['omega_T_eV']}"
                )
            params[f"delta_eps_{axis}"] = [p["delta_eps"] for p in poles]
            params[f"omega_T_{axis}"] = [p["omega_T_eV"] for p in poles]
        return _dispersion.make_dispersion(name, omega_max=omega_max, **params)
    elif name == "spline":
        return _dispersion.make_dispersion(
            name, knots=s["dispersion.k_knots_eV"], velocities=s["dispersion.group_velocities"], **params)
    else:
        poles = s["dispersion.poles"]
        params.setdefault("omega_max", 2.0 * m_initial)
        if not params["omega_max"] > poles[-1]["omega_T_eV"]:
            raise ScenarioError(
                f"dispersion.omega_max_eV: must exceed the highest omega_T ({poles[-1]['omega_T_eV']} eV), got {params['omega_max']}"
            )
        return _dispersion.make_dispersion(
            name,
            delta_eps=[p["delta_eps"] for p in poles],
            omega_T=[p["omega_T_eV"] for p in poles],
            gamma=[p["gamma_eV"] for p in poles],
            **params,
        )
    lo = default[0] if kmin is None else kmin
    hi = default[1] if kmax is None else kmax
    if not lo < hi:
        raise ScenarioError(f"dispersion.k_min_eV: window [{lo}, {hi}] eV is empty")
    return _dispersion.make_dispersion(name, k_min=lo, k_max=hi, **params)


def _fields(scenario: Scenario, part: str, context=None) -> dict:
    """{field: value in natural units} of the `RateModel` part `part` (`"neutrinos"`,
    `"medium"`, `"momentum"`, ...): every row that writes there, applies, and is set."""
    s = scenario
    out = {}
    for row in KEYS:
        path = row.path()
        if isinstance(path, tuple) and path[0] == part and row.name in s.values and row.applies(s.values):
            value = s[row.name]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[path[-1]] = row.to_natural(value, context)
    return out


def _momentum(scenario: Scenario):
    return DISTRIBUTIONS[scenario["momentum.distribution"]](**_fields(scenario, "momentum"))


def _detector(scenario: Scenario) -> Detector:
    declared = any(k.startswith("detector.") for k in scenario.values)
    window = scenario.get("detector.energy_window_eV", [0.0, math.inf])
    return Detector(
        efficiency=scenario.get("detector.efficiency", 1.0),
        window_lo=window[0],
        window_hi=window[1],
        declared=declared,
    )


def _grating(scenario: Scenario):
    if "grating.period_um" not in scenario.values:
        return None
    fields = _fields(scenario, "grating")
    # Along the axis (0 or 180 degrees) the grating has no angle leaf: the cheap axial path
    # whatever the tracing; `with_parameters` sets one to scan or optimise the angle.
    angle = fields.get("angle", 0.0)
    return Grating(wavenumber=fields["wavenumber"], depth=fields["depth"],
                   angle=None if abs(math.sin(angle)) <= 1e-12 else angle)


def _jit_rest_roots(model):
    import jax

    # One compiled call (cached across runs) instead of dozens of op-by-op dispatches.
    return jax.jit(rest_roots)(model)


def build_model(scenario: Scenario, quadrature: Quadrature = Quadrature()) -> RateModel:
    """Convert a validated scenario to a `RateModel` pytree (units -> eV).

    **Raises:** `ScenarioError` when the dispersion has no photon root at
    p = 0 in its window, or a level spacing is not positive.
    """
    s = scenario
    nu = NeutrinoSector(
        ordering=s["neutrino.ordering"],
        initial=s["neutrino.initial"],
        final=s["neutrino.final"],
        majorana=s["neutrino.nature"] == "majorana",
        **_fields(s, "neutrinos"),
    )
    channel = s["medium.channel"]
    resonant = s["medium.level_spacing_eV"] == "resonant"
    # The dipole's unit depends on the channel: the rows convert with it in context.
    context = types.SimpleNamespace(medium=types.SimpleNamespace(channel=channel))
    medium = Medium(channel=channel, resonant=resonant, **_fields(s, "medium", context))
    m_initial = _masses(s)[s["neutrino.initial"] - 1]
    model = RateModel(
        neutrinos=nu,
        dispersion=_dispersion_model(s, m_initial),
        medium=medium,
        momentum=_momentum(s),
        volume=BY_NAME["target.length_m"].to_natural(s["target.length_m"], None),
        dk=s["conventions.dk"],
        quadrature=quadrature,
        detector=_detector(s),
        grating=_grating(s),
    )
    roots = _jit_rest_roots(model)
    if not bool(roots.valid[0]):
        d = model.dispersion
        windows = ", ".join(
            f"[{float(lo):.6g}, {float(hi):.6g}]" for lo, hi in (b.omega_window() for b in d.branches())
        )
        raise ScenarioError(
            f"dispersion: {d.describe()} has no photon root at p = 0 in its photon-energy "
            f"window(s) omega in {windows} eV (the photon must take omega + E'_j = "
            f"m_{s['neutrino.initial']}); move the band or set dispersion.k_min_eV / dispersion.k_max_eV"
        )
    if resonant and not float(roots.omega[0]) + s["medium.detuning_eV"] > 0:
        raise ScenarioError("medium.detuning_eV: the level spacing E_vg must stay > 0")
    return model


# ----------------------------------------------------------------------------
# Free parameters: scenario keys that can vary inside jit (optimiser, scans).

#: Continuous keys that can vary inside `jit`: dotted key -> row (with its field).
PARAMETERS = {k.name: k for k in KEYS if k.field is not None}

def check_parameter(scenario: Scenario, key: str) -> None:
    """Raise `ScenarioError` unless `key` can vary in this scenario."""
    indexed = item_key(key)
    if indexed is not None:
        listed, index, _ = indexed
        items = scenario.get(listed)
        if items is None:
            (model,) = BY_NAME[listed].when[1]
            raise ScenarioError(f'{key}: applies only when dispersion.model is "{model}"')
        if index >= len(items):
            raise ScenarioError(f"{key}: {listed} has {len(items)} entries (indices 0 to {len(items) - 1})")
        return
    if key not in PARAMETERS:
        raise ScenarioError(
            f"{key}: not a continuous scenario parameter; allowed: " + ", ".join(PARAMETERS)
        )
    if key not in scenario.values:
        selector = CONDITIONAL.get(key, (None, ()))[0]
        if key == "medium.detuning_eV":
            raise ScenarioError(f'{key}: varies only with medium.level_spacing_eV = "resonant"')
        raise ScenarioError(
            f"{key}: does not apply to this scenario"
            + (f" ({selector} = \"{scenario[selector]}\")" if selector else "")
        )
    if key == "medium.level_spacing_eV" and scenario[key] == "resonant":
        raise ScenarioError(
            'medium.level_spacing_eV: is "resonant" here; vary medium.detuning_eV instead, '
            "or give a number"
        )


def _model_name(model: RateModel) -> str:
    """The scenario name of a model's dispersion (`dispersion.model`)."""
    return _dispersion.model_name(model.dispersion)


def with_parameters(model: RateModel, values: dict) -> RateModel:
    """The model with scenario parameters (TOML units) replaced; jit/grad friendly.

    **Arguments:** `model`: a `RateModel` from `build_model`; `values`: dotted
    key -> value (JAX scalars allowed). Check keys first with `check_parameter`.
    """
    import equinox as eqx
    import jax.numpy as jnp

    for key, value in values.items():
        indexed = item_key(key)
        if indexed is not None:
            listed, index, item = indexed
            field = ITEM_FIELDS[(listed, item)]
            current = getattr(model.dispersion, field)
            model = eqx.tree_at(
                lambda m: getattr(m.dispersion, field), model, current.at[index].set(jnp.asarray(value, dtype=float))
            )
            continue
        row = PARAMETERS[key]
        path = row.path(_model_name(model))

        def where(m, path=path):
            for name in path:
                m = getattr(m, name)
            return m

        # is_leaf: an optional field left as None (a grating along the axis has no angle) takes the value.
        model = eqx.tree_at(where, model, jnp.asarray(row.to_natural(value, model), dtype=float),
                            is_leaf=lambda x: x is None)
    return model
