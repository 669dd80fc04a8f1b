"""The innermost momentum integral: the separable rule (m_j = 0) against SciPy and the general rule."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

from cnbfluor import rates
from cnbfluor.rates.momentum_integral import general_momentum_integral, separable_momentum_integral
from cnbfluor.scenario import build_model, default_scenario

T = rates.constants.temperature_from_K(1.945)
M_I = float(np.sqrt(2.513e-3))  # m_3 for m_1 = 0, NO
DISTRIBUTIONS = {"fermi-dirac": rates.FermiDirac(T), "maxwellian": rates.Maxwellian(1.3 * T)}


def _cases(dist):
    """Photon energies and momentum ends: random ones, ends on table edges, one panel, the tail."""
    rng = np.random.default_rng(7)
    s, cut = float(dist.scale), float(dist.cutoff)
    lo = rng.uniform(0.0, 0.7 * cut, 40) * rng.uniform(0, 1, 40) ** 2
    up = np.minimum(lo + rng.uniform(0.05, 1.0, 40) * cut, cut)
    edges = np.asarray(dist.table_edges) * s
    lo = np.concatenate([lo, edges[[0, 3, 7]], [edges[5] + 1e-3 * s, 0.3 * cut, 0.5 * cut]])
    up = np.concatenate([up, edges[[9, 12, -1]], [edges[5] + 0.2 * s, 0.31 * cut, cut]])
    omega = M_I / 2 + rng.uniform(-2e-3, 2e-3, lo.shape[0])
    return omega, lo, up


def _scipy(dist, omega, lo, up):
    """integral p f(p) (E_i(p) - omega) dp by adaptive quadrature, with numpy's own f."""
    s = float(dist.scale)
    if isinstance(dist, rates.FermiDirac):
        f = lambda p: 1.0 / (np.exp(p / s) + 1.0)  # noqa: E731
    else:
        f = lambda p: np.exp(-0.5 * (p / s) ** 2)  # noqa: E731
    g = lambda p: p * f(p) * (np.sqrt(M_I**2 + p**2) - omega)  # noqa: E731
    return integrate.quad(g, lo, up, epsabs=0.0, epsrel=1e-13, limit=200)[0]


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_separable_rule_against_scipy_and_the_general_rule(name):
    dist = DISTRIBUTIONS[name]
    omega, lo, up = (jnp.asarray(x) for x in _cases(dist))
    sep, sep_err = jax.jit(lambda *a: separable_momentum_integral(2, dist, M_I, *a))(omega, lo, up)
    gen, _ = jax.jit(lambda *a: general_momentum_integral(2, dist, M_I, 0.0, *a))(omega, lo, up)
    ref = np.array([_scipy(dist, *map(float, x)) for x in zip(omega, lo, up)])
    # Measured: the separable rule 6.4e-9 (FD) and 1.6e-10 (Maxwellian) of the
    # largest integral, the general rule 1.8e-8 and 9.6e-9; relative to each
    # integral, even deep in the tail, 6.5e-9 and 2.7e-10.
    scale = float(np.max(np.abs(ref)))
    true = np.abs(np.asarray(sep) - ref)
    assert np.max(true / np.abs(ref)) < 1e-7
    assert np.max(true) / scale < 1e-8
    assert np.max(np.abs(np.asarray(gen) - ref)) / scale < 1e-7
    # The estimate is honest: never more than 3x below the true error (above rounding).
    assert np.all(3.0 * np.asarray(sep_err) + 1e-15 * scale >= true)


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_separable_rule_is_continuous_across_table_edges(name):
    dist = DISTRIBUTIONS[name]
    edge = float(dist.table_edges[6] * dist.scale)
    up = float(dist.table_edges[-4] * dist.scale)
    f = jax.jit(lambda lo, hi: separable_momentum_integral(2, dist, M_I, jnp.full(3, 0.03), lo, hi)[0])
    eps = 1e-12 * edge
    lo = jnp.asarray([edge - eps, edge, edge + eps])
    values = np.asarray(f(lo, jnp.full(3, up)))
    assert np.max(np.abs(values - values[1])) <= 1e-11 * abs(values[1])
    hi = jnp.asarray([edge - eps, edge, edge + eps])
    values = np.asarray(f(jnp.zeros(3), hi))
    assert np.max(np.abs(values - values[1])) <= 1e-11 * abs(values[1])


def test_separable_rule_gradients_match_finite_differences():
    dist0 = DISTRIBUTIONS["fermi-dirac"]

    def value(theta):
        dist = rates.FermiDirac(theta[0])
        omega, lo, up = theta[1], theta[2], theta[3]
        return separable_momentum_integral(2, dist, theta[4], omega[None], lo[None], up[None])[0][0]

    s = float(dist0.scale)
    for lo, up in [(0.0, 42 * s), (2.2 * s, 17.5 * s), (5.1 * s, 5.9 * s), (1.4 * s, 30 * s)]:
        theta = jnp.asarray([s, 0.025, lo, up, M_I])
        grad = np.asarray(jax.grad(value)(theta))
        for i, h in enumerate([1e-4 * s, 1e-6, 1e-3 * s, 1e-3 * s, 1e-5]):
            if i == 2 and lo == 0.0:
                continue
            step = jnp.zeros(5).at[i].set(h)
            fd = (float(value(theta + step)) - float(value(theta - step))) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(float(value(theta))) / s), (i, lo, up)


def test_massless_final_state_is_known_only_when_concrete():
    model = build_model(default_scenario())
    assert model.neutrinos.final_is_massless()  # NO, nu_3 -> nu_1, m_1 = 0
    assert not build_model(default_scenario().replace({"neutrino.lightest_mass_eV": 1e-3})).neutrinos.final_is_massless()
    assert not build_model(default_scenario().replace({"neutrino.final": 2})).neutrinos.final_is_massless()
    io = default_scenario().replace({"neutrino.ordering": "IO", "neutrino.initial": 2, "neutrino.final": 3})
    assert build_model(io).neutrinos.final_is_massless()
    seen = []
    jax.jit(lambda m: seen.append(m.neutrinos.final_is_massless()) or 0.0)(model)
    assert seen == [False]  # a model passed as a jit argument: every leaf traced


@pytest.mark.parametrize("updates", [
    {},
    {"dispersion.model": "linear-band", "dispersion.omega_eV": 0.025064915718988563,
     "dispersion.k_eV": 0.025064915718988563, "dispersion.group_velocity": 1e-4},
    {"medium.detuning_eV": 2e-4},
])
def test_rate_separable_path_agrees_with_the_general_path(updates):
    """The same design through both rules (closed over: separable; as a jit argument: general)."""
    model = build_model(default_scenario().replace(updates))
    closed = jax.jit(lambda: rates.rate_result(model))()
    traced = jax.jit(rates.rate_result)(model)
    rate = float(traced.rate)
    assert float(closed.rate) == pytest.approx(rate, rel=1e-7, abs=0)
    assert abs(float(closed.rate) - rate) <= float(closed.error) + float(traced.error)


def test_the_rule_follows_concrete_leaves_through_the_compiled_boundary(monkeypatch):
    """`rates.rate_result` compiles one program (eqx.filter_jit), where every leaf is traced: the
    choices read off concrete leaves (m_j = 0: the separable rule; a grating angle along the
    axis: no azimuthal integral) must be made before it. Regression: closed over by a jitted
    scan, the model fell back to the general rule (19,100 -> 9,100 designs/s)."""
    import dataclasses

    from cnbfluor.rates import momentum_integral as mi
    from cnbfluor.rates import phase_matching as pm

    calls = {"separable": 0, "general": 0, "azimuth": 0}

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(mi, "separable_momentum_integral", spy("separable", mi.separable_momentum_integral))
    monkeypatch.setattr(mi, "general_momentum_integral", spy("general", mi.general_momentum_integral))
    monkeypatch.setattr(pm, "_azimuth_nodes", spy("azimuth", pm._azimuth_nodes))
    # A static quadrature of its own: no earlier trace in this process is reused.
    model = dataclasses.replace(build_model(default_scenario()), quadrature=rates.Quadrature(outer_panels=7))
    detuned = lambda d, m=model: rates.averaged_rate(eqx.tree_at(lambda x: x.medium.detuning, m, d))  # noqa: E731
    jax.make_jaxpr(detuned)(1e-7)
    assert calls == {"separable": 1, "general": 0, "azimuth": 0}
    jax.make_jaxpr(rates.averaged_rate)(model)  # a jit argument: m_j is traced
    assert calls["general"] == 1
    # A grating along the axis by a concrete angle 0: the axial path, inside a jit.
    grating = dataclasses.replace(model, grating=rates.Grating(0.02, 1.0, 0.0))
    jax.make_jaxpr(lambda d, m=grating: rates.averaged_rate(eqx.tree_at(lambda x: x.medium.detuning, m, d)))(1e-7)
    assert calls["azimuth"] == 0


def test_separable_rule_derivatives_with_the_distribution_closed_over():
    """The hand-written derivative alone (m_i and the distribution not differentiated: symbolic
    zeros), in reverse and forward mode, against central differences and the full rule."""
    dist = DISTRIBUTIONS["fermi-dirac"]
    s = float(dist.scale)

    def value(x):  # x = (omega, p_lo, p_up)
        return separable_momentum_integral(2, dist, M_I, x[0][None], x[1][None], x[2][None])[0][0]

    for x in ([0.025, 2.2 * s, 17.5 * s], [0.03, 0.4 * s, 42 * s], [0.02, 5.1 * s, 5.9 * s]):
        x = jnp.asarray(x)
        grad, forward = np.asarray(jax.grad(value)(x)), np.asarray(jax.jacfwd(value)(x))
        assert np.allclose(grad, forward, rtol=1e-13, atol=0)
        for i, h in enumerate([1e-6, 1e-3 * s, 1e-3 * s]):
            step = jnp.zeros(3).at[i].set(h)
            fd = (float(value(x + step)) - float(value(x - step))) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-6), (i, x)
