"""Checks of the slow 3-D reference (`tests/reference3d.py`) on its own.

The reference shares no code with `cnbfluor`; these tests show that it is
right by itself: limits where it must equal a simpler form (isotropic index,
equal stack layers), second methods for each ingredient (allowed interval,
Lorentzian quadrature, k-space Jacobian of the stack, polar-angle forms for
the grating and the extraordinary wave) and convergence at the band edge.
"""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

from tests import reference3d as r3

M_I, M_J, T, WIDTH = 0.0501, 0.0086, 1.676e-4, 3e-8
KW = dict(m_i=M_I, m_j=M_J, T=T, width=WIDTH)

#: A quarter-wave-ish stack (1/eV): its first axial band edge lies 1.13e-5 eV
#: above the axial p = 0 root E_STACK (nu3 -> nu at m_j = 0.0086 eV).
STACK = dict(n1=1.5, d1=55.7, n2=2.0, d2=41.78)


def e_index(n):
    return r3.p0_root_index(n, M_I, M_J)


_STACK_RATES = {}


def stack_rate(pol, e_vg, epsrel):
    """The reference band-0 stack rate, computed once per (polarization, epsrel) in this module."""
    key = (pol, e_vg, epsrel)
    if key not in _STACK_RATES:
        st = r3.StackMode(**STACK, polarization=pol, band=0)
        _STACK_RATES[key] = r3.mode_rate(st, e_vg=e_vg, epsrel=epsrel, **KW)
    return _STACK_RATES[key]


@pytest.fixture(scope="module")
def e_stack():
    st = r3.StackMode(**STACK, polarization="TE", band=0)
    roots = r3._axis_roots(st, 0.0, M_I, M_J, 1e-4, st.axis_band_edges()[1] * (1 - 1e-12))
    return roots[0]


# -- ingredients --------------------------------------------------------------


def test_fermi_dirac_norm():
    val, _ = integrate.quad(lambda p: 4 * math.pi * p * p / (math.exp(p / T) + 1), 0, 200 * T, epsrel=1e-13)
    assert r3.fermi_dirac_Z(T) == pytest.approx(val, rel=1e-12)


def test_allowed_interval_two_methods():
    """brentq on the triangle conditions == closed-form quadratic roots with midpoint tests."""
    count = 0
    for omega in np.linspace(0.005, 0.0415, 37):
        qc = r3._p_zero_momentum(omega, M_I, M_J)
        qs = [0.3 * omega, omega, 1.7 * omega] + ([qc + d * T for d in (-40, -3, -0.1, 0, 0.1, 3, 40)] if qc else [])
        for q in qs:
            if q <= 0:
                continue
            a = r3.allowed_interval(q, omega, M_I, M_J, T)
            b = r3._allowed_closed_form(q, omega, M_I, M_J, T)
            assert (a is None) == (b is None), (q, omega, a, b)
            if a is not None:
                count += 1
                assert a[0] == pytest.approx(b[0], abs=1e-12 * T)
                assert a[1] == pytest.approx(b[1], abs=1e-12 * T)
                # inside: |c| <= 1 and E' >= m_j
                p = 0.5 * (a[0] + a[1])
                e_out = math.hypot(M_I, p) - omega
                c = (p * p + q * q + M_J**2 - e_out**2) / (2 * p * q)
                assert abs(c) <= 1 and e_out >= M_J
    assert count > 100


def test_lorentz_outer_voigt():
    """The sinh substitution integrates L(E - omega) times a Gaussian to its Voigt value."""
    mu, sigma = 0.0195, 1.2e-4
    gauss = lambda w: math.exp(-0.5 * ((w - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
    for e in (mu, mu + 0.7 * sigma, mu - 3 * sigma):
        val = r3._lorentz_outer(gauss, e, WIDTH, 1e-7, 0.04, [mu], 1e-12)
        exact = 2 * math.pi / WIDTH * special.voigt_profile(e - mu, sigma, WIDTH / 2)
        assert val == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_stack_f_is_the_complex_formula(pol):
    """The real-valued f equals the brief's formula with complex sqrt (evanescent layers included)."""
    st = r3.StackMode(**STACK, polarization=pol)
    n1, d1, n2, d2 = STACK["n1"], STACK["d1"], STACK["n2"], STACK["d2"]
    for omega in (0.004, 0.0171, 0.03):
        for v in np.linspace(0, (2.3 * omega) ** 2, 23):
            q1 = np.sqrt(complex(n1**2 * omega**2 - v))
            q2 = np.sqrt(complex(n2**2 * omega**2 - v))
            e1, e2 = (q1, q2) if pol == "TE" else (q1 / n1**2, q2 / n2**2)
            if abs(q1) < 1e-12 or abs(q2) < 1e-12:
                continue
            f = np.cos(q1 * d1) * np.cos(q2 * d2) - 0.5 * (e1 / e2 + e2 / e1) * np.sin(q1 * d1) * np.sin(q2 * d2)
            assert abs(f.imag) < 1e-9 * max(1.0, abs(f))
            assert st.f(omega, v) == pytest.approx(f.real, rel=1e-11, abs=1e-12)
    # k_perp = 0: the normal-incidence relation with the mix (n1/n2 + n2/n1)/2
    w = 0.017
    f0 = math.cos(n1 * w * d1) * math.cos(n2 * w * d2) - 0.5 * (n1 / n2 + n2 / n1) * math.sin(n1 * w * d1) * math.sin(
        n2 * w * d2
    )
    assert st.f(w, 0.0) == pytest.approx(f0, rel=1e-13)


def _fd_derivative(mode, omega, k_perp, h):
    kp = mode.kz_roots(omega + h, k_perp)[0]
    km = mode.kz_roots(omega - h, k_perp)[0]
    kp2 = mode.kz_roots(omega + 2 * h, k_perp)[0]
    km2 = mode.kz_roots(omega - 2 * h, k_perp)[0]
    return (8 * (kp - km) - (kp2 - km2)) / (12 * h)


@pytest.mark.parametrize(
    "mode",
    [
        r3.Index(1.5),
        r3.Ordinary(2.25),
        r3.Extraordinary(2.25, 2.6),
        r3.StackMode(**STACK, polarization="TE", band=0),
        r3.StackMode(**STACK, polarization="TM", band=0),
        r3.StackMode(**STACK, polarization="TM", band=1),
    ],
    ids=repr,
)
def test_dkz_domega_finite_difference(mode):
    for omega in (0.0172, 0.0215, 0.025):
        iv = mode.v_interval(omega)
        if iv is None:
            continue
        va, vb = iv
        for x in (0.13, 0.5, 0.87):
            k_perp = math.sqrt(va + x * (vb - va))
            roots = mode.kz_roots(omega, k_perp)
            assert len(roots) == 1
            if isinstance(mode, r3.StackMode):
                assert math.cos(roots[0] * mode.L) == pytest.approx(mode.f(omega, k_perp**2), abs=1e-12)
                assert mode.band * math.pi <= roots[0] * mode.L <= (mode.band + 1) * math.pi
            jac = mode.dkz_domega(omega, k_perp)
            assert _fd_derivative(mode, omega, k_perp, 1e-6 * omega) == pytest.approx(jac, rel=1e-6)
    assert mode.kz_roots(0.02, 10.0) == []


def _band_by_omega_scan(st, omega, v, n=3000):
    """Band index at (omega, v) counted the other way: critical points of f in omega at fixed v."""
    grid = np.linspace(1e-6, omega, n + 1)
    d = np.array([st.f_parts(w, v)[1] for w in grid])
    return int(np.sum(d[:-1] * d[1:] < 0))


@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_stack_band_assignment_two_ways(pol):
    """Band m from the k_perp scan at fixed omega == count of gaps below omega at fixed k_perp."""
    bands = [r3.StackMode(**STACK, polarization=pol, band=m) for m in range(3)]
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(40):
        omega = rng.uniform(0.005, 0.04)
        v = rng.uniform(0, (2.0 * omega) ** 2)
        owner = [m for m, st in enumerate(bands) if st.v_interval(omega) and st.v_interval(omega)[0] <= v <= st.v_interval(omega)[1]]
        f = bands[0].f(omega, v)
        if abs(f) > 1:
            assert owner == []
            continue
        assert len(owner) == 1, (omega, v, owner)
        assert owner[0] == _band_by_omega_scan(bands[0], omega, v)
        checked += 1
    assert checked > 10


def _dos_weighted(mode, omega, weight):
    """(1/4) integral dv 2 |dk_z/d omega| weight(k_z) over the mode's v interval (phi map)."""
    iv = mode.v_interval(omega)
    if iv is None:
        return 0.0
    va, vb = iv
    span = vb - va

    def h(phi):
        s, c = math.sin(phi / 2), math.cos(phi / 2)
        kz, jac = mode._kz_jac(omega, va + span * s * s, span * s * s, span * c * c)
        return 0.5 * span * math.sin(phi) * jac * weight(kz)

    return integrate.quad(h, 0, math.pi, epsabs=0, epsrel=1e-11, limit=200)[0]


def _kspace_weighted(mode, omega, prim):
    """integral dv [P(K(v; omega)) - P(m pi/L)], K the band-m k_z clipped to its zone, P' = weight."""
    m, L = mode.band, mode.L
    k_lo, k_hi = m * math.pi / L, (m + 1) * math.pi / L
    iv = mode.v_interval(omega)
    if iv is None:
        # omega below the band everywhere, or above it on the whole axis range
        top = mode.axis_band_edges()[1]
        assert omega < top
        return 0.0
    va, vb = iv
    span = vb - va

    def h(phi):
        s, c = math.sin(phi / 2), math.cos(phi / 2)
        kz = mode.kz_roots(omega, math.sqrt(va + span * s * s))[0]
        return 0.5 * span * math.sin(phi) * (prim(kz) - prim(k_lo))

    return va * (prim(k_hi) - prim(k_lo)) + integrate.quad(h, 0, math.pi, epsabs=0, epsrel=1e-11, limit=200)[0]


@pytest.mark.parametrize("pol,band", [("TE", 0), ("TM", 0), ("TM", 1)])
def test_stack_jacobian_vs_kspace(pol, band, e_stack):
    """integral d omega integral dv |dk_z/d omega| w(k_z) == integral dv integral dk_z w(k_z), across band edges.

    The left side is the reference's (omega, k_perp) measure with its edge
    substitutions; the right side needs only k_z at the two end frequencies.
    """
    st = r3.StackMode(**STACK, polarization=pol, band=band)
    weight = lambda k: 1.0 + (k * st.L) ** 2
    prim = lambda k: k + k**3 * st.L**2 / 3
    if band == 0:
        w1, w2 = e_stack - 3e-4, st.axis_band_edges()[1] + 3e-4
    else:
        w1, w2 = 0.019, 0.024
    cuts = sorted([w1, w2] + [w for w in st.axis_band_edges() if w1 < w < w2])
    lhs = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        g = lambda phi: _dos_weighted(st, a + (b - a) * math.sin(phi / 2) ** 2, weight) * 0.5 * (b - a) * math.sin(phi)
        lhs += integrate.quad(g, 0, math.pi, epsabs=0, epsrel=1e-10, limit=200)[0]
    rhs = _kspace_weighted(st, w2, prim) - _kspace_weighted(st, w1, prim)
    assert rhs > 0
    assert lhs == pytest.approx(rhs, rel=1e-8)


# -- rates: limits -------------------------------------------------------------


@pytest.mark.parametrize("n", [1.0, 1.5])
def test_index_3d_equals_1d(n):
    e = e_index(n)
    one = r3.isotropic_rate_1d(n, e_vg=e, **KW)
    three = r3.mode_rate(r3.Index(n), e_vg=e, **KW)
    assert one > 0
    assert three == pytest.approx(one, rel=1e-7)
    # off resonance as well (the Lorentzian tail and the kinematic edge)
    e2 = e + 4e-5
    assert r3.mode_rate(r3.Index(n), e_vg=e2, **KW) == pytest.approx(r3.isotropic_rate_1d(n, e_vg=e2, **KW), rel=1e-7)


def test_birefringent_equal_eps_is_index():
    eps = 2.25
    e = e_index(1.5) + 1e-5
    ref = r3.mode_rate(r3.Index(1.5), e_vg=e, **KW)
    assert r3.mode_rate(r3.Ordinary(eps), e_vg=e, **KW) == pytest.approx(ref, rel=1e-7)
    assert r3.mode_rate(r3.Extraordinary(eps, eps), e_vg=e, **KW) == pytest.approx(ref, rel=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_stack_equal_layers_is_index(pol):
    """n1 = n2: no gaps; band 0 (pi/L above every relevant |k|) is the index medium."""
    n = 1.5
    e = e_index(n)
    ref = r3.mode_rate(r3.Index(n), e_vg=e, **KW)
    st = r3.StackMode(n, 25.0, n, 27.36, polarization=pol, band=0)
    assert st.axis_band_edges()[1] * n > 0.05
    assert r3.mode_rate(st, e_vg=e, **KW) == pytest.approx(ref, rel=1e-7)


@pytest.mark.slow
def test_stack_equal_layers_two_bands_is_index():
    """n1 = n2 with pi/L inside the resonant sphere: band 0 + band 1 (split at a closed gap) == index."""
    n = 1.5
    e = e_index(n)
    ref = r3.mode_rate(r3.Index(n), e_vg=e, **KW)
    parts = [r3.mode_rate(r3.StackMode(n, 60.0, n, 65.66, "TE", m), e_vg=e, **KW) for m in (0, 1)]
    assert min(parts) > 0.05 * ref
    assert sum(parts) == pytest.approx(ref, rel=1e-7)


# -- rates: second methods for anisotropic cases --------------------------------


def _polar_rate(k_of, jac_const, e_vg, g, epsrel=1e-9):
    """Rate of a spheroidal mode from k' = (k_perp/sqrt(c_perp), k_z/sqrt(c_z)) on the sphere |k'| = omega.

    integral d^3k/(4 pi) F = jac_const integral d omega omega^2 (1/2) integral_{-1}^{1} d mu F,
    with the grating term in q^2 = k_perp^2 + (k_z - g)^2.
    """

    def inner(w):
        qc = r3._p_zero_momentum(w, M_I, M_J)

        def h(mu):
            kp, kz = k_of(w, mu)
            q = math.hypot(kp, kz - g)
            return (kp * kp + kz * kz) / w * r3.spectrum_S(q, w, M_I, M_J, T, 1e-12)

        grid = np.linspace(-1, 1, 401)
        qq = np.array([math.hypot(k_of(w, m)[0], k_of(w, m)[1] - g) for m in grid])
        pts = []
        if qc is not None:
            for off in (0, 2, -2, 8, -8, 25, -25):
                d = qq - (qc + off * T)
                for j in np.nonzero(d[:-1] * d[1:] < 0)[0]:
                    fn = lambda m: math.hypot(*k_of(w, m)) if g == 0 else math.hypot(k_of(w, m)[0], k_of(w, m)[1] - g)
                    pts.append(optimize.brentq(lambda m: fn(m) - qc - off * T, grid[j], grid[j + 1], xtol=1e-15))
        val = integrate.quad(h, -1, 1, points=sorted(pts) or None, epsabs=0, epsrel=epsrel * 0.1, limit=400)[0]
        return jac_const * w * w * 0.5 * val

    lo, hi = r3._omega_range(M_I, M_J, T)
    return r3._lorentz_outer(inner, e_vg, WIDTH, lo, hi, [], epsrel) / r3.fermi_dirac_Z(T)


@pytest.mark.slow
def test_extraordinary_vs_polar_form():
    eps_perp, eps_par = 2.25, 2.6
    e = e_index(1.5)

    def k_of(w, mu):
        s = math.sqrt(max(0.0, 1 - mu * mu))
        return math.sqrt(eps_par) * w * s, math.sqrt(eps_perp) * w * mu

    polar = _polar_rate(k_of, eps_par * math.sqrt(eps_perp), e, 0.0)
    ref = r3.mode_rate(r3.Extraordinary(eps_perp, eps_par), e_vg=e, **KW)
    assert ref > 0
    assert ref == pytest.approx(polar, rel=1e-7)


@pytest.mark.audit  # ~15 s: the reference checked a second way (`pytest -m audit`)
def test_grating_terms_index():
    """Index(1.5), g = k0/2: R_+g == R_-g, and R_+g equals the polar-angle form."""
    n = 1.5
    e = e_index(n)
    g = 0.5 * n * e
    rp = r3.mode_rate(r3.Index(n), e_vg=e, g=g, **KW)
    rm = r3.mode_rate(r3.Index(n), e_vg=e, g=-g, **KW)
    assert rp > 0
    assert rm == pytest.approx(rp, rel=1e-7)

    def k_of(w, mu):
        return n * w * math.sqrt(max(0.0, 1 - mu * mu)), n * w * mu

    assert rp == pytest.approx(_polar_rate(k_of, n**3, e, g), rel=1e-7)


# -- the band edge ----------------------------------------------------------------


@pytest.mark.audit  # ~15 s: the reference checked a second way (`pytest -m audit`)
@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_stack_band_edge_converges(pol, e_stack):
    """Band 0 with the first axial edge 1.1e-5 eV above E_vg: finite, and stable in epsrel."""
    st = r3.StackMode(**STACK, polarization=pol, band=0)
    edge = st.axis_band_edges()[1]
    assert 0 < edge - e_stack < 2e-5
    lo = stack_rate(pol, e_stack, 1e-6)
    hi = stack_rate(pol, e_stack, 1e-9)
    assert math.isfinite(hi) and hi > 0
    assert lo == pytest.approx(hi, rel=1e-6)


# -- the stack in the other order: k_perp outermost, omega inside -----------------


def _band_omega_range(st, v, w_max, n=600):
    """[omega_bot, omega_top] of band m at fixed v = k_perp^2, from the critical points of f in omega.

    At fixed k_perp the stack is a Hill problem in omega^2: f is monotone in each
    pass band and has one critical point per gap, none below the lowest band.
    (The reference finds bands the other way: in k_perp at fixed omega.)
    """
    m = st.band
    w0 = math.sqrt(v) / max(st.n1, st.n2)
    grid = np.linspace(max(w0, 1e-7), w_max, n + 1)
    d = np.array([st.f_parts(w, v)[1] for w in grid])
    fw = lambda w: st.f_parts(w, v)[1]
    crit = [optimize.brentq(fw, grid[j], grid[j + 1], xtol=1e-300) for j in np.nonzero(d[:-1] * d[1:] < 0)[0]]
    if m > 0 and len(crit) < m:
        return None
    lo = grid[0] if m == 0 else crit[m - 1]
    hi = crit[m] if len(crit) > m else w_max
    s = 1.0 if m % 2 == 0 else -1.0
    f = lambda w: st.f(w, v)
    if s * f(hi) > 1.0:
        return None
    w_bot = lo if s * f(lo) <= 1.0 else optimize.brentq(lambda w: f(w) - s, lo, hi, xtol=1e-300)
    w_top = optimize.brentq(lambda w: f(w) + s, w_bot, hi, xtol=1e-300) if -s * f(hi) >= 1.0 else hi
    return w_bot, w_top


def _swapped_stack_rate(st, e_vg, epsrel):
    """(1/Z) (1/4) integral dv integral d omega 2 |dk_z/d omega| a L S with v = k_perp^2 outermost (G = 0)."""
    offsets = (0, 2, -2, 8, -8, 25, -25)
    _, w_hi = r3._omega_range(M_I, M_J, T)
    # |k| = |p - p'_j| <= p + |p'_j| bounds the k_perp range where S can be nonzero
    vmax = (math.hypot(M_I, r3.P_MAX * T) + (r3.P_MAX + r3.P_CUT) * T) ** 2

    def inner(v):
        rng = _band_omega_range(st, v, w_hi)
        if rng is None:
            return 0.0
        wb, wt = rng

        def q_minus_qc(w, off):
            qc = r3._p_zero_momentum(w, M_I, M_J)
            if qc is None:
                return math.nan
            kz = st._kz_from_f(st.f(w, v))
            return math.sqrt(v + kz * kz) - qc - off * T

        def func(w):
            if not wb < w < wt:
                return 0.0
            f, fw, _ = st.f_parts(w, v)
            dd = (1 - f) * (1 + f)
            if dd <= 0:
                return 0.0
            kz = st._kz_from_f(f)
            jac = abs(fw) / (st.L * math.sqrt(dd))
            q = math.sqrt(v + kz * kz)
            return 0.5 * jac * q * q / w * r3.spectrum_S(q, w, M_I, M_J, T, 1e-8)

        grid = np.linspace(wb, wt, 201)[1:-1]
        d0 = np.array([q_minus_qc(w, 0.0) for w in grid])
        pts = []
        for off in offsets:
            d = d0 - off * T
            for j in np.nonzero(d[:-1] * d[1:] < 0)[0]:
                pts.append(optimize.brentq(q_minus_qc, grid[j], grid[j + 1], args=(off,), xtol=1e-300))
        return r3._lorentz_outer(func, e_vg, WIDTH, wb, wt, pts, 0.1 * epsrel)

    # break points in v: the band edges at E_vg and where |k(E_vg)| crosses q_c + offsets
    va, vb = st.v_interval(e_vg)
    qe = r3._p_zero_momentum(e_vg, M_I, M_J)
    q_e = lambda v, off: math.hypot(math.sqrt(v), st.kz_roots(e_vg, math.sqrt(v))[0]) - qe - off * T
    vpts = [va, vb]
    grid = np.linspace(va, vb, 401)[1:-1]
    d0 = np.array([q_e(v, 0.0) for v in grid])
    for off in offsets:
        d = d0 - off * T
        for j in np.nonzero(d[:-1] * d[1:] < 0)[0]:
            vpts.append(optimize.brentq(q_e, grid[j], grid[j + 1], args=(off,), xtol=1e-300))
    cuts = sorted({0.0, vmax} | {p for p in vpts if 0 < p < vmax})
    total = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        g = lambda phi: inner(a + (b - a) * math.sin(phi / 2) ** 2) * 0.5 * (b - a) * math.sin(phi)
        total += integrate.quad(g, 0, math.pi, epsabs=0, epsrel=epsrel, limit=400)[0]
    return total / r3.fermi_dirac_Z(T)


@pytest.mark.audit  # ~15 s: the reference checked a second way (`pytest -m audit`)
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_stack_rate_in_swapped_order(pol, e_stack):
    """The band-edge stack rate with k_perp outermost and the bands found in omega at fixed k_perp."""
    st = r3.StackMode(**STACK, polarization=pol, band=0)
    ref = stack_rate(pol, e_stack, 1e-9)
    assert _swapped_stack_rate(st, e_stack, 1e-5) == pytest.approx(ref, rel=1e-7)
