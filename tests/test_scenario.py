"""Scenario files: the public key contract, defaults, and clear errors."""


import pytest

from cnbfluor import rates
from cnbfluor.scenario import SCHEMA, ScenarioError, build_model, default_scenario, load_scenario, parse_scenario

# The scenario keys promised in the core-engine issue (a public contract).
CONTRACT = {
    "neutrino": {"ordering", "lightest_mass_eV", "initial", "final", "nature", "density_cm3", "clustering"},
    "oscillation": {"s12sq", "s13sq", "dm21_eV2", "dm31_eV2", "dm32_eV2"},
    "momentum": {"distribution", "temperature_K", "sigma_eV", "p_eV"},
    "medium": {"channel", "dipole", "density_cm3", "level_spacing_eV", "coherence_time_ns", "form_factor", "mixing"},
    "target": {"length_m"},
    "dispersion": {"model", "n", "omega_eV", "k_eV", "group_velocity"},
    "conventions": {"dk"},
}


def test_contract_keys_exist():
    for table, keys in CONTRACT.items():
        assert keys <= set(SCHEMA[table]), table


def test_default_scenario_is_the_paper_m1_case():
    s = default_scenario()
    assert s["neutrino.ordering"] == "NO" and (s["neutrino.initial"], s["neutrino.final"]) == (3, 1)
    assert s["medium.channel"] == "M1" and s["medium.coherence_time_ns"] == 10.0
    assert s["momentum.distribution"] == "fermi-dirac" and s["momentum.temperature_K"] == 1.945
    assert s["target.length_m"] == 3.0 and s["oscillation.s13sq"] == 0.02215


def test_nufit_defaults_follow_ordering_and_tau_follows_channel():
    io = parse_scenario({"neutrino": {"ordering": "IO", "initial": 2, "final": 1}, "medium": {"channel": "E1"}})
    assert io["oscillation.s13sq"] == 0.02231 and io["oscillation.dm32_eV2"] == -2.484e-3
    assert "oscillation.dm31_eV2" not in io.values
    assert io["medium.coherence_time_ns"] == 1.0


def test_toml_round_trip(tmp_path):
    s = default_scenario().replace({"dispersion.model": "index", "dispersion.n": 1.3})
    path = tmp_path / "s.toml"
    path.write_text(s.to_toml())
    assert load_scenario(path) == s or load_scenario(path).values == s.values


BAD = [
    ({"neutrino": {"initial": 1, "final": 3}}, r"neutrino.initial: nu_1 -> nu_3 needs m_1 > m_3.*allowed transitions for NO: 2->1, 3->1, 3->2"),
    ({"neutrino": {"initial": 2, "final": 2}}, r"neutrino.final: must differ"),
    ({"neutrino": {"ordering": "XO"}}, r"neutrino.ordering: 'XO' is out of range; allowed: \"NO\" or \"IO\""),
    ({"neutrino": {"initial": 4}}, r"neutrino.initial: 4 is out of range; allowed: 1, 2 or 3"),
    ({"neutrino": {"lightest_mass_eV": -0.1}}, r"neutrino.lightest_mass_eV: -0.1 is out of range; allowed: >= 0"),
    ({"neutrino": {"density_cm3": "many"}}, r"neutrino.density_cm3: expected number"),
    ({"neutrino": {"clustering": True}}, r"neutrino.clustering: expected number"),
    ({"neutrino": {"colour": 1}}, r"neutrino.colour: unknown key; allowed keys in \[neutrino\]"),
    ({"detector2": {}}, r"detector2: unknown table; allowed tables"),
    ({"medium": {"coherence_time_ns": -1.0}}, r"medium.coherence_time_ns: -1.0 is out of range; allowed: > 0"),
    ({"medium": {"coherence_time_ns": 0}}, r"medium.coherence_time_ns: 0.0 is out of range"),
    ({"medium": {"channel": "M2"}}, r"medium.channel: 'M2' is out of range; allowed: \"M1\", \"E1\" or \"E1M1\""),
    ({"medium": {"mixing": 0.5}}, r"medium.mixing: applies only when medium.channel is \"E1M1\""),
    ({"medium": {"level_spacing_eV": "auto"}}, r"medium.level_spacing_eV: expected number or resonant"),
    ({"medium": {"level_spacing_eV": 0.025, "detuning_eV": 1e-6}}, r"medium.detuning_eV: applies only when"),
    ({"momentum": {"distribution": "boltzmann"}}, r"momentum.distribution: 'boltzmann' is out of range"),
    ({"momentum": {"distribution": "maxwellian", "temperature_K": 2.0}}, r"momentum.temperature_K: applies only when momentum.distribution is \"fermi-dirac\""),
    ({"momentum": {"distribution": "maxwellian", "sigma_eV": 0.0}}, r"momentum.sigma_eV: 0.0 is out of range; allowed: > 0"),
    ({"dispersion": {"model": "slab"}}, r"dispersion.model: 'slab' is out of range; allowed: \"vacuum\", \"index\", \"linear-band\""),
    ({"dispersion": {"model": "linear-band", "omega_eV": 0.025, "k_eV": 0.025}}, r"dispersion.group_velocity: required"),
    ({"dispersion": {"model": "linear-band", "omega_eV": 0.025, "k_eV": 0.025, "group_velocity": -1e-3}}, r"dispersion.group_velocity: -0.001 is out of range; allowed: in \(0, 1\]"),
    ({"dispersion": {"model": "vacuum", "n": 1.5}}, r"dispersion.n: applies only when dispersion.model is \"index\""),
    ({"dispersion": {"k_min_eV": 0.3, "k_max_eV": 0.1}}, r"dispersion.k_min_eV: must be below"),
    ({"oscillation": {"dm32_eV2": -2.5e-3}}, r"oscillation.dm32_eV2: applies only when neutrino.ordering is \"IO\""),
    ({"oscillation": {"s12sq": 1.2}}, r"oscillation.s12sq: 1.2 is out of range; allowed: in \(0, 1\)"),
    ({"conventions": {"dk": "half"}}, r"conventions.dk: 'half' is out of range; allowed: \"exact\" or \"paper\""),
]


@pytest.mark.parametrize("raw,message", BAD)
def test_bad_input_names_the_key(raw, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(raw)


def test_window_without_root_is_an_error():
    s = parse_scenario({"dispersion": {
        "model": "linear-band", "omega_eV": 0.025, "k_eV": 0.025, "group_velocity": 1e-3,
        "k_min_eV": 0.05, "k_max_eV": 0.06,
    }})
    with pytest.raises(ScenarioError, match=r"dispersion: linear-band .* has no photon root at p = 0 in its photon-energy window\(s\) omega in \[0.025025, 0.025035\] eV"):
        build_model(s)


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[neutrino\nordering = 'NO'")
    with pytest.raises(ScenarioError, match="is not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "missing.toml")


def test_units_are_converted_once():
    model = build_model(default_scenario())
    c = rates.constants
    assert float(model.medium.width) == pytest.approx(c.HBAR / 1e-8, rel=1e-14)
    assert float(model.neutrinos.density) == pytest.approx(112 * c.HBAR_C_CM**3, rel=1e-14)
    assert float(model.volume) == pytest.approx((3.0 / c.HBAR_C_M) ** 3, rel=1e-14)
    assert c.temperature_from_K(1.945) == pytest.approx(1.676e-4, rel=1e-3)


def test_replace_rederives_defaults():
    s = default_scenario().replace({"medium.channel": "E1", "momentum.distribution": "maxwellian"})
    assert s["medium.coherence_time_ns"] == 1.0
    assert s["momentum.sigma_eV"] == 1e-4 and "momentum.temperature_K" not in s.values
