"""The `Scenario` value and its validation against the table of keys.

A scenario is validated eagerly, outside `jit`: unknown tables or keys, wrong
types and out-of-range values raise `ScenarioError` naming the dotted key and
what is allowed. Nothing is silently ignored: a key that does not apply to the
chosen model or distribution is an error too.
"""

import dataclasses
import math

from ..errors import ScenarioError
from ..rates.neutrino import NUFIT_6_0, neutrino_masses
from ._keys import KEYS, Key, item_key


#: Tables read by other layers (`optimize`), not by the rate: passed over here.
PASSTHROUGH_TABLES = ("optimize",)


#: Models whose rate is the 3-D average (PHYSICS.md Sec. 9).
ANISOTROPIC = ("bragg", "birefringent")


def _positive(x):
    return x > 0


def _nonnegative(x):
    return x >= 0


#: table -> {key: row}: the rows of `KEYS` by table, in the table's order.
SCHEMA: dict[str, dict[str, Key]] = {}
for _row in KEYS:
    SCHEMA.setdefault(_row.table, {})[_row.key] = _row

#: Keys that apply only to some choices: dotted key -> (selector key, allowed values).
CONDITIONAL = {k.name: k.when for k in KEYS if k.when is not None}

#: Defaults of conditional keys, filled in when their selector applies.
CONDITIONAL_DEFAULTS = {k.name: k.when_default for k in KEYS if k.when_default is not None}

#: Keys that must be given where they apply.
REQUIRED = {k.name: k.when for k in KEYS if k.required}

POLE_KEYS = {"delta_eps": _positive, "omega_T_eV": _positive, "gamma_eV": _nonnegative}


def _check_poles(poles, where="dispersion.poles"):
    """Validate a list of poles (`where`: its key); returns a normalised list of dicts of floats.

    A birefringent crystal's poles (`dispersion.poles_perp`, `_par`) are lossless.
    """
    if not isinstance(poles, list) or not poles:
        raise ScenarioError(f"{where}: expected a non-empty list of tables {{delta_eps, omega_T_eV, gamma_eV}}")
    out = []
    for i, pole in enumerate(poles):
        if not isinstance(pole, dict):
            raise ScenarioError(f"{where}.{i}: expected a table {{delta_eps, omega_T_eV, gamma_eV}}")
        for key in pole:
            if key not in POLE_KEYS:
                raise ScenarioError(f"{where}.{i}.{key}: unknown key; allowed: " + ", ".join(POLE_KEYS))
        clean = {}
        for key, check in POLE_KEYS.items():
            value = pole.get(key, 0.0 if key == "gamma_eV" else None)
            if value is None:
                raise ScenarioError(f"{where}.{i}.{key}: required")
            if not _type_ok("number", value) or not check(value):
                raise ScenarioError(
                    f"{where}.{i}.{key}: {value!r} is out of range; allowed: "
                    + (">= 0" if key == "gamma_eV" else "> 0")
                )
            clean[key] = float(value)
        if where != "dispersion.poles" and clean["gamma_eV"] != 0.0:
            raise ScenarioError(
                f"{where}.{i}.gamma_eV: {clean['gamma_eV']!r} is out of range; allowed: 0 (the birefringent "
                "crystal's poles are lossless; a lossy anisotropic medium is not modelled)"
            )
        out.append(clean)
    for i in range(1, len(out)):
        if not out[i]["omega_T_eV"] > out[i - 1]["omega_T_eV"]:
            raise ScenarioError(f"{where}.{i}.omega_T_eV: poles must be listed with omega_T increasing")
    return out


def _type_ok(kind, value):
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "number":
        return is_number and math.isfinite(value)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "number-or-resonant":
        return value == "resonant" or (is_number and math.isfinite(value))
    if kind == "poles":
        return isinstance(value, list)
    if kind == "list":
        return isinstance(value, list) and len(value) >= 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
        )
    if kind == "window":
        return (
            isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
            and 0 <= value[0] < value[1]
        )
    raise AssertionError(kind)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A validated scenario: every key filled in, in the TOML's own units.

    `values` maps dotted keys (`"medium.channel"`) to plain Python values;
    `explicit` names the keys the user gave (the rest are defaults, which
    `replace` derives again, e.g. tau_v when the channel changes).
    """

    values: dict
    explicit: frozenset = frozenset()

    def __getitem__(self, dotted):
        return self.values[dotted]

    def get(self, dotted, default=None):
        return self.values.get(dotted, default)

    def value(self, dotted):
        """The value of a continuous key, also an indexed one
        (`dispersion.poles.N.delta_eps`, `dispersion.group_velocities.N`)."""
        indexed = item_key(dotted)
        if indexed is not None:
            listed, index, item = indexed
            entry = self.values[listed][index]
            return entry if item is None else entry[item]
        return self.values[dotted]

    def replace(self, updates: dict) -> "Scenario":
        """A new scenario with some dotted keys changed, validated again."""
        import copy

        nested = copy.deepcopy(self.to_dict(explicit_only=True))
        for dotted, value in updates.items():
            table, _, key = dotted.partition(".")
            indexed = item_key(dotted)
            if indexed is not None:
                listed, index, item = indexed
                entries = nested.setdefault(table, {}).setdefault(
                    listed.partition(".")[2], copy.deepcopy(self.values[listed]))
                if item is None:
                    entries[index] = value
                else:
                    entries[index][item] = value
                continue
            nested.setdefault(table, {})[key] = value
        # A key that stops applying because its selector changed is dropped
        # (switching to "maxwellian" drops temperature_K); one given in
        # `updates` is kept, so that a contradiction is still an error.
        for dotted, (selector, allowed) in CONDITIONAL.items():
            table, _, key = dotted.partition(".")
            sel_table, _, sel_key = selector.partition(".")
            current = nested.get(sel_table, {}).get(sel_key, self.values.get(selector))
            if dotted not in updates and current not in allowed:
                nested.get(table, {}).pop(key, None)
        return parse_scenario(nested)

    def to_dict(self, explicit_only: bool = False) -> dict:
        """Nested tables; all keys, or only those the user gave."""
        nested: dict = {}
        for dotted, value in self.values.items():
            if explicit_only and dotted not in self.explicit:
                continue
            table, _, key = dotted.partition(".")
            nested.setdefault(table, {})[key] = value
        return nested

    def to_toml(self) -> str:
        """TOML text that `load_scenario` reads back to the same scenario."""
        lines = []
        for table, keys in self.to_dict().items():
            lines.append(f"[{table}]")
            for key, value in keys.items():
                lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
        return "\n".join(lines)


def _toml_value(value):
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _did_you_mean(name, allowed) -> str:
    """' did you mean 'x'?' for the closest allowed name, or ''."""
    import difflib

    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def parse_scenario(raw: dict) -> Scenario:
    """Validate a nested dict (as `tomllib` returns it) and fill in defaults.

    **Raises:** `ScenarioError` naming the key and the allowed values.
    """
    if not isinstance(raw, dict):
        raise ScenarioError("scenario: expected a table of tables")
    raw = {t: v for t, v in raw.items() if t not in PASSTHROUGH_TABLES}
    for table, keys in raw.items():
        if table not in SCHEMA:
            raise ScenarioError(
                f"{table}: unknown table; allowed tables: {', '.join((*SCHEMA, *PASSTHROUGH_TABLES))}"
                + _did_you_mean(table, (*SCHEMA, *PASSTHROUGH_TABLES))
            )
        if not isinstance(keys, dict):
            raise ScenarioError(f"{table}: expected a table, got {keys!r}")
        for key in keys:
            if key not in SCHEMA[table]:
                raise ScenarioError(
                    f"{table}.{key}: unknown key; allowed keys in [{table}]: "
                    + ", ".join(SCHEMA[table]) + _did_you_mean(key, SCHEMA[table])
                )

    values: dict = {}
    given: set = set()
    for table, spec in SCHEMA.items():
        for key, rule in spec.items():
            dotted = f"{table}.{key}"
            if key in raw.get(table, {}):
                value = raw[table][key]
                given.add(dotted)
                if not _type_ok(rule.kind, value):
                    raise ScenarioError(
                        f"{dotted}: expected {rule.kind.replace('-', ' ')}, got {value!r}; allowed: {rule.allowed}"
                    )
                if rule.kind == "number":
                    value = float(value)
                if rule.kind == "poles":
                    value = _check_poles(value, dotted)
                if rule.kind in ("window", "list"):
                    value = [float(v) for v in value]
                numeric = not isinstance(value, str)
                if rule.check is not None and (numeric or rule.kind == "string") and not rule.check(value):
                    raise ScenarioError(f"{dotted}: {value!r} is out of range; allowed: {rule.allowed}")
                values[dotted] = value
            elif rule.default is not None:
                values[dotted] = rule.default

    for dotted, (selector, allowed) in CONDITIONAL.items():
        applies = values[selector] in allowed
        if dotted in given and not applies:
            raise ScenarioError(
                f"{dotted}: applies only when {selector} is "
                + " or ".join(f'"{a}"' for a in allowed)
                + f" (it is \"{values[selector]}\")"
            )
        if applies and dotted not in values and dotted in CONDITIONAL_DEFAULTS:
            values[dotted] = CONDITIONAL_DEFAULTS[dotted]
    for dotted, (selector, allowed) in REQUIRED.items():
        if values[selector] in allowed and dotted not in values:
            raise ScenarioError(f'{dotted}: required for {selector} = "{values[selector]}"')

    ordering = values["neutrino.ordering"]
    fits = NUFIT_6_0[ordering]
    values.setdefault("oscillation.s12sq", fits["s12sq"])
    values.setdefault("oscillation.s13sq", fits["s13sq"])
    values.setdefault("oscillation.dm21_eV2", fits["dm21_eV2"])
    values.setdefault(
        "oscillation.dm31_eV2" if ordering == "NO" else "oscillation.dm32_eV2", fits["dm3l_eV2"]
    )
    if ordering == "IO":
        dm32, dm21 = values["oscillation.dm32_eV2"], values["oscillation.dm21_eV2"]
        if -dm32 <= dm21 and values["neutrino.lightest_mass_eV"] ** 2 - dm32 - dm21 < 0:
            raise ScenarioError(
                "oscillation.dm32_eV2: IO needs |dm32| > dm21 so that m1 is real"
            )
    values.setdefault(
        "medium.coherence_time_ns", 10.0 if values["medium.channel"] == "M1" else 1.0
    )
    if "medium.detuning_eV" in values and values["medium.level_spacing_eV"] != "resonant":
        raise ScenarioError(
            'medium.detuning_eV: applies only when medium.level_spacing_eV = "resonant"'
        )
    if values["medium.level_spacing_eV"] == "resonant":
        values.setdefault("medium.detuning_eV", 0.0)

    if values["dispersion.model"] == "spline":
        knots, vels = values["dispersion.k_knots_eV"], values["dispersion.group_velocities"]
        v_lo, v_hi = values["dispersion.v_min"], values["dispersion.v_max"]
        if not (knots[0] > 0 and all(b > a for a, b in zip(knots, knots[1:]))):
            raise ScenarioError(f"dispersion.k_knots_eV: must be > 0 and increasing, got {knots}")
        if len(vels) != len(knots):
            raise ScenarioError(
                f"dispersion.group_velocities: one per knot ({len(knots)}), got {len(vels)}"
            )
        if not v_lo < v_hi:
            raise ScenarioError(f"dispersion.v_min: must be below dispersion.v_max ({v_lo} >= {v_hi})")
        for i, v in enumerate(vels):
            if not v_lo <= v <= v_hi:
                raise ScenarioError(
                    f"dispersion.group_velocities.{i}: {v} is out of range; allowed: in [v_min, v_max] = [{v_lo}, {v_hi}]"
                )
    grating = "grating.period_um" in values
    for key in ("grating.depth", "grating.angle_deg"):
        if key in values and not grating:
            raise ScenarioError(f"{key}: needs grating.period_um (a grating has a period)")
    if grating:
        values.setdefault("grating.depth", 1.0)
        values.setdefault("grating.angle_deg", 0.0)
    if values["conventions.dk"] == "paper" and (grating or values["dispersion.model"] in ANISOTROPIC):
        what = "a grating" if grating else f'dispersion.model = "{values["dispersion.model"]}"'
        raise ScenarioError(
            f'conventions.dk: "paper" has no meaning with {what} (D_k belongs to the isotropic '
            'picture, PHYSICS.md Sec. 9); allowed here: "exact"'
        )
    if values["momentum.distribution"] == "rest" and (grating or values["dispersion.model"] in ANISOTROPIC):
        raise ScenarioError(
            'momentum.distribution: "rest" has no 3-D average (an anisotropic medium or a grating); '
            'allowed here: "monochromatic", "fermi-dirac" or "maxwellian"'
        )
    kmin, kmax = values.get("dispersion.k_min_eV"), values.get("dispersion.k_max_eV")
    if kmin is not None and kmax is not None and not kmin < kmax:
        raise ScenarioError(
            f"dispersion.k_min_eV: must be below dispersion.k_max_eV ({kmin} >= {kmax})"
        )

    i, j = values["neutrino.initial"], values["neutrino.final"]
    if i == j:
        raise ScenarioError(f"neutrino.final: must differ from neutrino.initial (both are {i})")
    scenario = Scenario(values, frozenset(given))
    masses = _masses(scenario)
    if not masses[i - 1] > masses[j - 1]:
        raise ScenarioError(
            f"neutrino.initial: nu_{i} -> nu_{j} needs m_{i} > m_{j}, but for {ordering} "
            f"m_{i} = {masses[i - 1]:.6g} eV and m_{j} = {masses[j - 1]:.6g} eV; "
            f"allowed transitions for {ordering}: "
            + ", ".join(
                f"{a}->{b}" for a in (1, 2, 3) for b in (1, 2, 3) if masses[a - 1] > masses[b - 1]
            )
        )
    return scenario


def _masses(scenario: Scenario):
    """[m1, m2, m3] (eV) of a scenario, as plain floats (`rates.neutrino_masses`)."""
    s = scenario
    ordering = s["neutrino.ordering"]
    dm3l = s["oscillation.dm31_eV2"] if ordering == "NO" else s["oscillation.dm32_eV2"]
    masses = neutrino_masses(ordering, s["neutrino.lightest_mass_eV"], s["oscillation.dm21_eV2"], dm3l)
    return [float(m) for m in masses]
