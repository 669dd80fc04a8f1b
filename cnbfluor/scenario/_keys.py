"""The one table of scenario keys.

Every key is one `Key` row: its dotted name, kind, unit, what it means, its
default, the allowed values, the choices it applies to (`when`), and, for the
continuous keys that can vary inside `jit` (optimiser, scans), the pytree field
it writes with the conversion from its unit to natural units (eV). Validation,
model building, the free and scanned keys, the scan's units, the error messages
and the README's scenario reference (`reference_table`, checked by a test) are
all read from `KEYS`. Adding a model's key is one row here (and the model's
constructor argument of the same name).
"""

import dataclasses
import math
from typing import Any, Callable

from ..dispersion import MODELS
from ..rates import constants as const
from ..rates.average import DK_CONVENTIONS
from ..rates.channels import CHANNELS
from ..rates.neutrino import RELIC_DENSITY_CM3


def _positive(x):
    return x > 0


def _nonnegative(x):
    return x >= 0


def _unit_interval(x):
    return 0 < x < 1


def _velocity(v):
    return 0 < v <= 1


def _same(x, model):
    return x


def _dipole(x, model):
    return x * (const.M1_DIPOLE_UNIT if model.medium.channel == "M1" else const.E1_DIPOLE_UNIT)


#: Conversions from a key's unit to natural units, by unit (value, model) -> value.
TO_NATURAL: dict[str, Callable] = {
    "": _same, "eV": _same, "eV^2": _same, "c": _same,
    "cm^-3": lambda x, m: const.per_cm3(x),
    "um": lambda x, m: const.length_from_um(x),
    "period": lambda x, m: 2.0 * math.pi / const.length_from_um(x),
    "deg": lambda x, m: math.radians(x),
    "m^3": lambda x, m: const.length_from_m(x) ** 3,
    "K": lambda x, m: const.temperature_from_K(x),
    "ns": lambda x, m: const.width_from_ns(x),
    "dipole": _dipole,
}


@dataclasses.dataclass(frozen=True)
class Key:
    """One scenario key.

    - `name`: dotted, `table.key`, units in the name (`_eV`, `_um`, `_ns`, ...);
    - `kind`: "number", "integer", "string", "number-or-resonant", "poles", "list", "window";
    - `unit`: of the TOML value, as printed ("eV", "um", "cm^-3", "c", "" for none);
    - `doc`: what it is; `default`: when always applicable (None: none);
    - `check`, `allowed`: the rule and its wording in errors and the README;
    - `when`: `(selector key, values)` where the key applies (None: always);
    - `required`: the key must be given where it applies;
    - `when_default`: its default where it applies; `default_text`: the README's default;
    - `field`: the `RateModel` path it writes (a tuple of attribute names), or
      per model `{model: path}`; None for keys that cannot vary inside `jit`;
    - `convert`: unit -> natural units for that field, a `TO_NATURAL` key.
    """

    name: str
    kind: str
    unit: str = ""
    doc: str = ""
    default: Any = None
    check: Callable[[Any], bool] | None = None
    allowed: str = ""
    when: tuple | None = None
    required: bool = False
    when_default: Any = None
    default_text: str | None = None
    field: tuple | dict | None = None
    convert: str | None = None

    @property
    def table(self) -> str:
        return self.name.partition(".")[0]

    @property
    def key(self) -> str:
        return self.name.partition(".")[2]

    def applies(self, values: dict) -> bool:
        """Whether the key applies given the (selector) values of a scenario."""
        return self.when is None or values.get(self.when[0]) in self.when[1]

    def path(self, model_name: str | None = None) -> tuple | None:
        """The `RateModel` field path it writes (for a dispersion key, of that model)."""
        if isinstance(self.field, dict):
            return self.field.get(model_name)
        return self.field

    def to_natural(self, value, model):
        """The key's value in natural units, as its field holds it."""
        return TO_NATURAL[self.convert if self.convert is not None else self.unit](value, model)


def _model(*names):
    return ("dispersion.model", names)


POS, NONNEG = "> 0", ">= 0"
_WINDOWED = ("vacuum", "index", "linear-band", "tight-binding")
_STACKS = ("bragg", "bragg-isotropic")


def _d(key, unit, doc, models, *, field=None, check=_positive, allowed=POS, required=True, when_default=None,
       default_text=None, kind="number", convert=None):
    """A `dispersion.*` key of some models; its field is `model.dispersion.<field>`."""
    path = None if field is None else ("dispersion", field)
    return Key(f"dispersion.{key}", kind, unit, doc, None, check, allowed, _model(*models), required, when_default,
               default_text, path, convert)


KEYS: tuple[Key, ...] = (
    # [neutrino]
    Key("neutrino.ordering", "string", "", "mass ordering", "NO", lambda s: s in ("NO", "IO"), '"NO" or "IO"'),
    Key("neutrino.lightest_mass_eV", "number", "eV", "lightest neutrino mass m0", 0.0, _nonnegative, NONNEG,
        field=("neutrinos", "lightest_mass")),
    Key("neutrino.initial", "integer", "", "i in nu_i -> nu_j + gamma", 3, lambda i: i in (1, 2, 3), "1, 2 or 3 with m_i > m_j"),
    Key("neutrino.final", "integer", "", "j in nu_i -> nu_j + gamma", 1, lambda i: i in (1, 2, 3), "1, 2 or 3 with m_i > m_j"),
    Key("neutrino.nature", "string", "", "Majorana doubles the rate", "dirac", lambda s: s in ("dirac", "majorana"),
        '"dirac" or "majorana"'),
    Key("neutrino.density_cm3", "number", "cm^-3", "relic density of state i (nu + nubar)", RELIC_DENSITY_CM3,
        _positive, POS, field=("neutrinos", "density")),
    Key("neutrino.clustering", "number", "", "overdensity factor", 1.0, _positive, POS, field=("neutrinos", "clustering")),
    # [oscillation]; defaults NuFIT 6.0, filled in by the ordering
    Key("oscillation.s12sq", "number", "", "sin^2 theta_12", None, _unit_interval, "in (0, 1)",
        default_text="NuFIT 6.0: 0.308", field=("neutrinos", "s12sq")),
    Key("oscillation.s13sq", "number", "", "sin^2 theta_13", None, _unit_interval, "in (0, 1)",
        default_text="NuFIT 6.0: 0.02215 (NO), 0.02231 (IO)", field=("neutrinos", "s13sq")),
    Key("oscillation.dm21_eV2", "number", "eV^2", "m2^2 - m1^2", None, _positive, POS,
        default_text="NuFIT 6.0: 7.49e-5", field=("neutrinos", "dm21")),
    Key("oscillation.dm31_eV2", "number", "eV^2", "m3^2 - m1^2 (NO)", None, _positive, "> 0 (NO only)",
        when=("neutrino.ordering", ("NO",)), default_text="NuFIT 6.0: 2.513e-3", field=("neutrinos", "dm3l")),
    Key("oscillation.dm32_eV2", "number", "eV^2", "m3^2 - m2^2 (IO)", None, lambda x: x < 0, "< 0 (IO only)",
        when=("neutrino.ordering", ("IO",)), default_text="NuFIT 6.0: -2.484e-3", field=("neutrinos", "dm3l")),
    # [momentum]
    Key("momentum.distribution", "string", "", "initial-neutrino momentum distribution", "fermi-dirac",
        lambda s: s in ("rest", "monochromatic", "fermi-dirac", "maxwellian"),
        '"rest", "monochromatic", "fermi-dirac" or "maxwellian"'),
    Key("momentum.temperature_K", "number", "K", "Fermi-Dirac temperature", None, _positive, POS,
        when=("momentum.distribution", ("fermi-dirac",)), when_default=1.945, field=("momentum", "temperature")),
    Key("momentum.sigma_eV", "number", "eV", "Maxwellian width", None, _positive, POS,
        when=("momentum.distribution", ("maxwellian",)), when_default=1.0e-4, field=("momentum", "sigma")),
    Key("momentum.p_eV", "number", "eV", "monochromatic |p|", None, _positive, POS,
        when=("momentum.distribution", ("monochromatic",)), when_default=3.0e-4, field=("momentum", "momentum")),
    # [medium]
    Key("medium.channel", "string", "", "transition channel", "M1", lambda s: s in CHANNELS, '"M1", "E1" or "E1M1"'),
    Key("medium.dipole", "number", "e/m_e (M1), e/(alpha m_e) (E1, E1M1)", "transition dipole", 1.0, _positive, POS,
        field=("medium", "dipole"), convert="dipole"),
    Key("medium.density_cm3", "number", "cm^-3", "dipole density", const.AVOGADRO, _positive, POS,
        field=("medium", "density")),
    Key("medium.level_spacing_eV", "number-or-resonant", "eV", "level spacing E_vg", "resonant", _positive,
        '"resonant" (the lowest p = 0 photon root) or a number > 0', field=("medium", "level_spacing")),
    Key("medium.detuning_eV", "number", "eV", "offset of E_vg from the resonant root", None, None,
        'any number (with level_spacing_eV = "resonant")', default_text="0", field=("medium", "detuning")),
    Key("medium.coherence_time_ns", "number", "ns", "coherence time tau_v (width Gamma_v = hbar / tau_v)", None,
        _positive, POS, default_text="10 (M1), 1 (E1, E1M1)", field=("medium", "width")),
    Key("medium.form_factor", "number", "", "form factor f", 1.0, _positive, POS, field=("medium", "form_factor")),
    Key("medium.mixing", "number", "", "parity-mixing amplitude eps", None, _positive, "> 0 (E1M1 only)",
        when=("medium.channel", ("E1M1",)), when_default=1.0, field=("medium", "mixing")),
    # [target]
    Key("target.length_m", "number", "m", "side l of the cubic target (V = l^3)", 3.0, _positive, POS,
        field=("volume",), convert="m^3"),
    # [dispersion]
    Key("dispersion.model", "string", "", "photon dispersion model", "vacuum", lambda s: s in MODELS,
        ", ".join(f'"{m}"' for m in MODELS)),
    _d("n", "", "refractive index", ("index",), field="n"),
    _d("omega_eV", "eV", "band energy (linear-band: at k_eV; spline: at the first knot)", ("linear-band", "spline"),
       field=None),
    _d("k_eV", "eV", "band anchor wavenumber", ("linear-band",), field="k_c"),
    _d("group_velocity", "c", "band group velocity", ("linear-band",), field="velocity", check=_velocity,
       allowed="in (0, 1]"),
    _d("eps_inf", "", "high-frequency permittivity", ("lorentz",), field="eps_inf"),
    _d("poles", "", "Lorentz oscillators", ("lorentz",), kind="poles", check=None,
       allowed="a list of {delta_eps > 0, omega_T_eV > 0, gamma_eV >= 0} with omega_T increasing"),
    _d("omega_max_eV", "eV", "top of the highest polariton branch", ("lorentz",), field="omega_max",
       required=False, default_text="2 m_i", allowed="> 0, above the highest omega_T"),
    _d("omega0_eV", "eV", "band centre omega_0 (omega = omega_0 - 2 J cos k Lambda)", ("tight-binding",), field="omega0"),
    _d("coupling_eV", "eV", "coupling J (bandwidth 4 J)", ("tight-binding",), field="coupling"),
    _d("period_um", "um", "resonator period Lambda", ("tight-binding",), field="period"),
    _d("probe_eV", "eV", "probe resonance omega_31", ("eit",), field="probe"),
    _d("coupling_strength_eV", "eV", "susceptibility strength kappa = n |d_31|^2 / (eps_0 hbar)", ("eit",),
       field="coupling"),
    _d("rabi_eV", "eV", "control Rabi frequency Omega_c", ("eit",), field="rabi"),
    _d("excited_decay_eV", "eV", "excited-state coherence decay gamma_31", ("eit",), field="excited_decay"),
    _d("ground_dephasing_eV", "eV", "ground-state dephasing gamma_21", ("eit",), field="ground_dephasing",
       check=_nonnegative, allowed=NONNEG, required=False, when_default=0.0),
    _d("half_width_eV", "eV", "half width of the photon-energy window around omega_31", ("eit",),
       field="half_width", required=False, default_text="5 Omega_c"),
    _d("n1", "", "index of layer 1", _STACKS, field="n1"),
    _d("n2", "", "index of layer 2", _STACKS, field="n2"),
    _d("d1_um", "um", "thickness of layer 1", _STACKS, field="d1"),
    _d("d2_um", "um", "thickness of layer 2", _STACKS, field="d2"),
    _d("bands", "", "pass bands from omega = 0 up that carry photons (bragg: each in TE and TM)", _STACKS,
       kind="integer",
       check=lambda i: 1 <= i <= 20, allowed="1 to 20", required=False, when_default=3),
    _d("eps_perp", "", "permittivity across the optic axis (ordinary index sqrt(eps_perp)); with poles_perp its "
       "high-frequency value", ("birefringent",), field="eps_perp"),
    _d("eps_par", "", "permittivity along the optic axis; with poles_par its high-frequency value", ("birefringent",),
       field="eps_par"),
    _d("poles_perp", "", "lossless Lorentz oscillators of eps_perp(omega)", ("birefringent",), kind="poles",
       check=None, required=False, default_text="none (constant)",
       allowed="a list of {delta_eps > 0, omega_T_eV > 0} with omega_T increasing (gamma_eV = 0 only)"),
    _d("poles_par", "", "lossless Lorentz oscillators of eps_par(omega)", ("birefringent",), kind="poles",
       check=None, required=False, default_text="none (constant)",
       allowed="a list of {delta_eps > 0, omega_T_eV > 0} with omega_T increasing (gamma_eV = 0 only)"),
    _d("k_knots_eV", "eV", "knots of the spline band", ("spline",), kind="list", check=None,
       allowed="2 or more increasing numbers > 0"),
    _d("group_velocities", "c", "group velocity at each knot", ("spline",), kind="list", check=None,
       allowed="one per knot, in [v_min, v_max]"),
    _d("v_min", "c", "lowest allowed group velocity", ("spline",), check=_velocity, allowed="in (0, 1]",
       required=False, when_default=1e-7),
    _d("v_max", "c", "highest allowed group velocity", ("spline",), check=_velocity, allowed="in (0, 1]",
       required=False, when_default=1.0),
    _d("k_min_eV", "eV", "lower edge of the k window", _WINDOWED, check=_nonnegative, allowed=NONNEG,
       required=False, default_text="wide enough for every root (tight-binding: 0)"),
    _d("k_max_eV", "eV", "upper edge of the k window", _WINDOWED, required=False,
       default_text="wide enough for every root (tight-binding: the zone edge pi/Lambda)"),
    # [grating]: a periodic dipole density (no table: none)
    Key("grating.period_um", "number", "um", "period 2 pi / |D| of the dipole density n_d0 [1 + h cos(D . x)]", None,
        _positive, POS, default_text="no grating", field=("grating", "wavenumber"), convert="period"),
    Key("grating.depth", "number", "", "modulation depth h (the G = +-D terms weigh h^2/4)", None,
        lambda h: 0 <= h <= 1, "in [0, 1]", default_text="1 (with a period)", field=("grating", "depth")),
    Key("grating.angle_deg", "number", "deg", "angle between D and the medium's axis (the optic axis, the stack "
        "normal); 0: along it, no azimuthal integral", None, lambda a: 0 <= a <= 180, "in [0, 180]",
        default_text="0 (with a period)", field=("grating", "angle"), convert="deg"),
    # [detector]
    Key("detector.efficiency", "number", "", "photon detection efficiency", None, lambda x: 0 < x <= 1, "in (0, 1]",
        default_text="1", field=("detector", "efficiency")),
    Key("detector.energy_window_eV", "window", "eV", "photon energies the detector sees", None, None,
        "[lo, hi] with 0 <= lo < hi", default_text="all energies"),
    # [conventions]
    Key("conventions.dk", "string", "", "D_k convention", "exact", lambda s: s in DK_CONVENTIONS, '"exact" or "paper"'),
)

#: Dotted name -> row.
BY_NAME: dict[str, Key] = {k.name: k for k in KEYS}

# The band energy writes a different field per model: one row, two models.
BY_NAME["dispersion.omega_eV"] = dataclasses.replace(
    BY_NAME["dispersion.omega_eV"], field={"linear-band": ("dispersion", "omega_c"), "spline": ("dispersion", "omega_start")})
KEYS = tuple(BY_NAME[k.name] for k in KEYS)

#: Per-item keys of list-valued keys: "dispersion.poles.N.<item>" and
#: "dispersion.group_velocities.N" -> (list key, item name or None, array field).
ITEM_FIELDS = {
    ("dispersion.poles", "delta_eps"): "delta_eps",
    ("dispersion.poles", "omega_T_eV"): "omega_T",
    ("dispersion.poles", "gamma_eV"): "gamma",
    ("dispersion.poles_perp", "delta_eps"): "delta_eps_perp",
    ("dispersion.poles_perp", "omega_T_eV"): "omega_T_perp",
    ("dispersion.poles_par", "delta_eps"): "delta_eps_par",
    ("dispersion.poles_par", "omega_T_eV"): "omega_T_par",
    ("dispersion.group_velocities", None): "velocities",
}


def item_key(name: str):
    """`(list key, index, item)` of an indexed key (`dispersion.poles.0.omega_T_eV` ->
    `("dispersion.poles", 0, "omega_T_eV")`, `dispersion.group_velocities.2` ->
    `("dispersion.group_velocities", 2, None)`), or None for any other name."""
    parts = name.split(".")
    for listed, item in ITEM_FIELDS:
        head = listed.split(".")
        if len(parts) == len(head) + (2 if item else 1) and parts[: len(head)] == head \
                and parts[len(head)].isdigit() and (item is None or parts[-1] == item):
            return listed, int(parts[len(head)]), item
    return None


def unit_of(name: str) -> str:
    """The unit of a key (also of an indexed key such as `dispersion.poles.0.omega_T_eV`)."""
    if name in BY_NAME:
        return BY_NAME[name].unit
    indexed = item_key(name)
    if indexed is None:
        return ""
    listed, _, item = indexed
    return "eV" if item is not None and item.endswith("_eV") else BY_NAME[listed].unit


def _default_text(k: Key) -> str:
    if k.default_text is not None:
        return k.default_text
    value = k.default if k.default is not None else k.when_default
    if value is None:
        return "required" if k.required else ""
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:g}" if isinstance(value, float) else str(value)


def reference_table() -> str:
    """The README's scenario reference: a Markdown table with one row per key."""
    lines = ["| key | unit | applies to | default | allowed | meaning |", "|---|---|---|---|---|---|"]
    for k in KEYS:
        where = "" if k.when is None else " ".join(f'`{v}`' for v in k.when[1])
        lines.append(f"| `{k.name}` | {k.unit} | {where} | {_default_text(k)} | {k.allowed} | {k.doc} |")
    return "\n".join(lines)
