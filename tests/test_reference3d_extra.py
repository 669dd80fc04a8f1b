"""Checks of the additions to the slow 3-D reference (`tests/reference3d.py`) on their own.

The additions are the dispersive uniaxial crystal (lossless Lorentz poles per
axis: `LorentzEps`, `DispersiveOrdinary`, `DispersiveExtraordinary`), the grating
tilted from the optic axis (`tilted_mode_rate`, `tilted_grating_rate`, with the
azimuth of k_perp averaged exactly by `azimuthal_S`) and the cases exported in
`EXTRA_CASES`. Like the reference they share no code with `cnbfluor`. Each check
can fail on its own: limits where a simpler form must come out (constant
permittivities, equal axes against the 1-D isotropic form, theta = 0, an index
at any theta), second methods (finite differences, a k-space volume across a
pole, a direct quadrature over the azimuth, the integrals in the other order).
"""

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from tests import reference3d as r3

M_I, M_J, T, WIDTH = 0.0501, 0.0086, 1.676e-4, 3e-8
KW = dict(m_i=M_I, m_j=M_J, T=T, width=WIDTH)

#: The Lorentz permittivity of the cases: one pole at 0.0175 eV, eps < 0 up to omega_L = 0.018447 eV.
EPS_POLE = r3.LorentzEps(2.25, [(0.25, 0.0175)])
W_T = 0.0175
#: A photon energy inside both hyperbolic bands (eps = -2.06 there).
E_HYP = 0.018
G_TILT = 0.015


def e_index(n):
    return r3.p0_root_index(n, M_I, M_J)


def hyp_perp(g=0.0, scale=1.0):
    """eps_perp = 2.25 > 0 > eps_par(E_HYP): k_z^2 = eps_perp (omega^2 + k_perp^2 / |eps_par|)."""
    return r3.DispersiveExtraordinary(2.25, EPS_POLE, k_max=scale * r3.k_perp_bound(M_I, M_J, T, g))


def hyp_par(g=0.0, scale=1.0):
    """eps_par = 2.25 > 0 > eps_perp(E_HYP): k_z^2 = |eps_perp| (k_perp^2 / eps_par - omega^2), band edge k_z = 0."""
    return r3.DispersiveExtraordinary(EPS_POLE, 2.25, k_max=scale * r3.k_perp_bound(M_I, M_J, T, g))


def _eps_direct(eps_inf, poles, w):
    return eps_inf + sum(de * wt * wt / (wt * wt - w * w) for de, wt in poles)


# -- the Lorentz permittivity --------------------------------------------------------


def test_lorentz_eps_values_derivatives_zeros():
    poles = [(0.3, 0.012), (0.2, 0.03)]
    eps = r3.LorentzEps(2.0, poles)
    assert eps.omega_T == (0.012, 0.03)
    for w in np.linspace(0.001, 0.045, 45):
        if min(abs(w - wt) for _, wt in poles) < 1e-4:
            continue
        e = _eps_direct(2.0, poles, w)
        assert eps(w) == pytest.approx(e, rel=1e-13)
        assert eps.inverse(w) * e == pytest.approx(1.0, rel=1e-13)
        h = 1e-6 * w
        fd = (_eps_direct(2.0, poles, w + h) - _eps_direct(2.0, poles, w - h)) / (2 * h)
        assert eps.deriv(w) == pytest.approx(fd, rel=1e-7)
        fdi = (1 / _eps_direct(2.0, poles, w + h) - 1 / _eps_direct(2.0, poles, w - h)) / (2 * h)
        assert eps.inverse_deriv(w) == pytest.approx(fdi, rel=1e-7, abs=1e-9 * abs(eps.inverse(w)) / w)
    # 1/eps is smooth through a pole: zero on it, derivative finite and continuous
    for wt in (0.012, 0.03):
        assert eps.inverse(wt) == 0.0
        d0 = eps.inverse_deriv(wt)
        assert math.isfinite(d0) and d0 < 0
        for s in (1 - 1e-7, 1 + 1e-7):
            assert eps.inverse_deriv(wt * s) == pytest.approx(d0, rel=1e-5)
        h = 1e-9 * wt
        assert (eps.inverse(wt + h) - eps.inverse(wt - h)) / (2 * h) == pytest.approx(d0, rel=1e-6)
    # zeros: one between the poles, one above the last (eps_inf > 0), none below the first (eps(0) > 0)
    assert len(eps.omega_L) == 2
    assert 0.012 < eps.omega_L[0] < 0.03 < eps.omega_L[1]
    for wl in eps.omega_L:
        assert abs(eps(wl)) < 1e-12
        assert eps(wl * (1 - 1e-9)) < 0 < eps(wl * (1 + 1e-9))
    # single pole: omega_L^2 = omega_T^2 (eps_inf + delta) / eps_inf
    assert EPS_POLE.omega_L[0] == pytest.approx(W_T * math.sqrt(2.5 / 2.25), rel=1e-14)
    # eps(0) < 0 gives a zero below the first pole; eps_inf < 0 none above the last
    neg = r3.LorentzEps(-3.0, [(1.0, 0.02)])
    assert len(neg.omega_L) == 1 and neg.omega_L[0] < 0.02 and abs(neg(neg.omega_L[0])) < 1e-12
    assert eps.breaks(0.0, 0.05) == sorted(eps.omega_T + eps.omega_L)
    assert eps.breaks(0.013, 0.05) == [0.03, eps.omega_L[1]]
    assert r3.LorentzEps(2.25).omega_L == () and r3.LorentzEps(2.25).inverse(0.02) == 1 / 2.25
    with pytest.raises(ValueError):
        r3.LorentzEps(2.0, [(-0.1, 0.02)])


def test_omega_breaks_are_poles_and_zeros_of_both_axes():
    other = r3.LorentzEps(2.0, [(0.4, 0.025)])
    ex = r3.DispersiveExtraordinary(other, EPS_POLE, k_max=0.1)
    want = sorted([W_T, EPS_POLE.omega_L[0], 0.025, other.omega_L[0]])
    assert ex.omega_breaks(0.0, 0.05) == pytest.approx(want, rel=1e-15)
    assert r3.DispersiveOrdinary(other).omega_breaks(0.0, 0.05) == pytest.approx([0.025, other.omega_L[0]])


# -- geometry of the modes --------------------------------------------------------------


def test_constant_eps_geometry_is_the_existing_classes():
    pairs = [
        (r3.DispersiveOrdinary(2.25), r3.Ordinary(2.25)),
        (r3.DispersiveExtraordinary(2.25, 2.6), r3.Extraordinary(2.25, 2.6)),
        (r3.DispersiveExtraordinary(2.6, 2.25), r3.Extraordinary(2.6, 2.25)),
    ]
    for new, old in pairs:
        for w in (0.012, 0.0195, 0.031):
            va, vb = new.v_interval(w)
            assert (va, vb) == pytest.approx(old.v_interval(w), rel=1e-14, abs=0)
            assert new.axis_kz(w) == pytest.approx(old.axis_kz(w), rel=1e-14)
            for x in (0.0, 0.2, 0.7, 0.999):
                v = va + x * (vb - va)
                kz_n, j_n = new._kz_jac(w, v, v - va, vb - v)
                kz_o, j_o = old._kz_jac(w, v, v - va, vb - v)
                assert kz_n == pytest.approx(kz_o, rel=1e-12)
                assert j_n == pytest.approx(j_o, rel=1e-12)
        assert new.omega_breaks(0.0, 0.05) == []


def _fd(mode, w, k_perp, h):
    f = lambda x: mode.kz_roots(x, k_perp)[0]
    return (8 * (f(w + h) - f(w - h)) - (f(w + 2 * h) - f(w - 2 * h))) / (12 * h)


@pytest.mark.parametrize(
    "mode,omega,regime",
    [
        (hyp_perp(), 0.0172, "ellipse"),  # below the pole of eps_par: eps_par large
        (hyp_perp(), W_T * (1 + 1e-4), "hyperbola_perp"),  # just above it
        (hyp_perp(), E_HYP, "hyperbola_perp"),
        (hyp_perp(), 0.0184, "hyperbola_perp"),  # near omega_L: eps_par -> 0-
        (hyp_perp(), 0.0186, "ellipse"),  # just above omega_L
        (hyp_par(), 0.0172, "ellipse"),
        (hyp_par(), W_T * (1 + 1e-4), "hyperbola_par"),
        (hyp_par(), E_HYP, "hyperbola_par"),
        (hyp_par(), 0.0184, "hyperbola_par"),
        (r3.DispersiveExtraordinary(r3.LorentzEps(2.0, [(0.4, 0.025)]), EPS_POLE, k_max=0.1), 0.022, "ellipse"),
        (r3.DispersiveExtraordinary(r3.LorentzEps(2.0, [(0.4, 0.025)]), EPS_POLE, k_max=0.1), 0.0255, "hyperbola_par"),
        (r3.DispersiveExtraordinary(r3.LorentzEps(2.0, [(0.4, 0.025)]), EPS_POLE, k_max=0.1), E_HYP, "hyperbola_perp"),
    ],
)
def test_dkz_domega_finite_difference(mode, omega, regime):
    """|dk_z/d omega| at fixed k_perp, both permittivities dispersive, against a 4th-order difference of k_z."""
    assert mode.regime(omega) == regime
    va, vb = mode.v_interval(omega)
    h = 1e-7 * omega
    checked = 0
    for x in (0.01, 0.13, 0.5, 0.87, 0.99):
        k_perp = math.sqrt(va + x * (vb - va))
        if any(not mode.kz_roots(omega + d * h, k_perp) for d in (-2, -1, 1, 2)):
            continue  # the step leaves the cut interval
        kz = mode.kz_roots(omega, k_perp)[0]
        # on the surface, with both permittivities at omega
        e_perp, e_par = mode.eps_perp(omega), mode.eps_par(omega)
        assert k_perp**2 / e_par + kz**2 / e_perp == pytest.approx(omega**2, rel=1e-11)
        jac = mode.dkz_domega(omega, k_perp)
        assert abs(_fd(mode, omega, k_perp, h)) == pytest.approx(jac, rel=1e-6)
        checked += 1
    assert checked >= 3


def test_dispersive_ordinary_dkz_finite_difference():
    mode = r3.DispersiveOrdinary(EPS_POLE)
    for w in (0.012, 0.017, 0.0186, 0.03):
        va, vb = mode.v_interval(w)
        for x in (0.1, 0.5, 0.9):
            k_perp = math.sqrt(va + x * (vb - va))
            kz = mode.kz_roots(w, k_perp)[0]
            assert k_perp**2 + kz**2 == pytest.approx(EPS_POLE(w) * w * w, rel=1e-12)
            assert _fd(mode, w, k_perp, 1e-7 * w) == pytest.approx(mode.dkz_domega(w, k_perp), rel=1e-6)
    assert mode.v_interval(E_HYP) is None  # eps_perp < 0: no ordinary wave


def test_regimes_and_cuts():
    k_max = 0.06
    ex = r3.DispersiveExtraordinary(2.25, EPS_POLE, k_max=k_max)
    # hyperbola: cut at k_z = k_max (v = (k_max^2 eps_perp... ) and k_perp = k_max
    va, vb = ex.v_interval(E_HYP)
    e_par = EPS_POLE(E_HYP)
    assert va == 0.0
    assert vb == pytest.approx(min(k_max**2, (k_max**2 / 2.25 - E_HYP**2) * abs(e_par)), rel=1e-13)
    assert ex.kz_roots(E_HYP, math.sqrt(vb))[0] <= k_max * (1 + 1e-12)
    # exactly on the pole of eps_par: the planes k_z = sqrt(eps_perp) omega
    assert ex.regime(W_T) == "hyperbola_perp"
    for k_perp in (0.0, 0.01, 0.05):
        assert ex.kz_roots(W_T, k_perp)[0] == pytest.approx(1.5 * W_T, rel=1e-14)
    # the other hyperbola starts at the band edge k_perp^2 = eps_par omega^2 (k_z = 0)
    hp = r3.DispersiveExtraordinary(EPS_POLE, 2.25, k_max=k_max)
    va, vb = hp.v_interval(E_HYP)
    assert va == pytest.approx(2.25 * E_HYP**2, rel=1e-14)
    assert hp.kz_roots(E_HYP, math.sqrt(va))[0] == 0.0
    assert math.isinf(hp.dkz_domega(E_HYP, math.sqrt(va)))
    # both negative: nothing; a hyperbola without k_max: refused
    both = r3.DispersiveExtraordinary(EPS_POLE, EPS_POLE, k_max=k_max)
    assert both.regime(E_HYP) is None and both.v_interval(E_HYP) is None
    with pytest.raises(ValueError):
        r3.DispersiveExtraordinary(2.25, EPS_POLE).v_interval(E_HYP)
    # the cut bound: q_bound + |g|
    p_top = (r3.P_MAX + r3.P_CUT) * T
    assert r3.k_perp_bound(M_I, M_J, T, -0.01) == pytest.approx(p_top + math.sqrt(M_I**2 + p_top**2 - M_J**2) + 0.01)


def test_cut_loses_nothing():
    """M(omega) (grating along z and tilted) is the same with k_max = k_perp_bound and 1.4 times it."""
    g = G_TILT
    for make in (hyp_perp, hyp_par):
        for w in (E_HYP, 0.0177, 0.01835):
            a = r3._k_perp_integral(make(g), w, g, M_I, M_J, T, 1e-10, 1e-12)
            b = r3._k_perp_integral(make(g, 1.4), w, g, M_I, M_J, T, 1e-10, 1e-12)
            assert a > 0
            assert a == pytest.approx(b, rel=1e-9)
        a = r3._tilted_k_perp_integral(make(g), E_HYP, g, 0.7, M_I, M_J, T, 1e-9, 1e-11)
        b = r3._tilted_k_perp_integral(make(g, 1.4), E_HYP, g, 0.7, M_I, M_J, T, 1e-9, 1e-11)
        assert a > 0
        assert a == pytest.approx(b, rel=1e-8)
    with pytest.raises(ValueError):
        r3.tilted_mode_rate(hyp_perp(0.0), e_vg=E_HYP, g=g, theta=0.7, **KW)


def test_through_the_poles():
    """M(omega) is continuous through a pole of eps_par (ellipse -> planes -> hyperbola) and of eps_perp."""
    for make in (hyp_perp, hyp_par):
        mode = make()
        vals = [r3._k_perp_integral(mode, W_T * (1 + s), 0.0, M_I, M_J, T, 1e-10, 1e-12) for s in (-1e-9, 1e-9)]
        assert vals[0] > 0
        assert vals[0] == pytest.approx(vals[1], rel=1e-6)
    # exactly on the pole of eps_par (1/eps_par = 0: the planes) as well
    on = r3._k_perp_integral(hyp_perp(), W_T, 0.0, M_I, M_J, T, 1e-10, 1e-12)
    near = r3._k_perp_integral(hyp_perp(), W_T * (1 + 1e-9), 0.0, M_I, M_J, T, 1e-10, 1e-12)
    assert on == pytest.approx(near, rel=1e-6)


# -- the k-space measure across a pole --------------------------------------------------


def _kz2_direct(eps_perp, eps_par, w, v):
    """k_z^2 = eps_perp (omega^2 - v / eps_par), permittivities as plain formulas."""
    return eps_perp(w) * (w * w - v / eps_par(w))


@pytest.mark.parametrize("which", ["par_pole", "perp_pole"])
def test_kspace_jacobian_across_pole(which):
    """integral d omega integral dv |dk_z/d omega| w(k_z) == integral dv integral dk_z w(k_z) over [w1, w2] around the pole.

    The left side is the reference's (omega, v) measure with its intervals, cuts,
    band edge and 1/eps forms; the right side needs k_z only at the ends of each
    side of the pole (k_z(omega) is monotone at fixed v on each side), from
    eps_perp (omega^2 - v/eps_par) with the permittivities written out again.
    """
    K = 0.05
    lor = lambda w: _eps_direct(2.25, [(0.25, W_T)], w)
    const = lambda w: 2.25
    if which == "par_pole":
        mode = r3.DispersiveExtraordinary(2.25, EPS_POLE, k_max=K)
        e_perp, e_par = const, lor
    else:
        mode = r3.DispersiveExtraordinary(EPS_POLE, 2.25, k_max=K)
        e_perp, e_par = lor, const
    w1, w2 = 0.0168, 0.0182
    weight = lambda k: 1.0 + (k / K) ** 2
    prim = lambda k: k + k**3 / (3 * K * K)

    def dos(w):
        iv = mode.v_interval(w)
        if iv is None:
            return 0.0
        va, vb = iv
        span = vb - va

        def h(phi):
            s, c = math.sin(phi / 2), math.cos(phi / 2)
            kz, jac = mode._kz_jac(w, va + span * s * s, span * s * s, span * c * c)
            return 0.5 * span * math.sin(phi) * jac * weight(kz)

        return integrate.quad(h, 0, math.pi, epsabs=0, epsrel=1e-12, limit=200)[0]

    lhs = 0.0
    for a, b in ((w1, W_T), (W_T, w2)):
        g = lambda phi: dos(a + (b - a) * math.sin(phi / 2) ** 2) * 0.5 * (b - a) * math.sin(phi)
        lhs += integrate.quad(g, 0, math.pi, epsabs=0, epsrel=1e-10, limit=200)[0]

    def clip_kz(w, v):
        k2 = _kz2_direct(e_perp, e_par, w, v)
        return min(K, math.sqrt(k2)) if k2 > 0 else 0.0

    def rhs_v(v):
        tot = 0.0
        for a, b in ((w1, W_T * (1 - 1e-13)), (W_T * (1 + 1e-13), w2)):
            tot += abs(prim(clip_kz(b, v)) - prim(clip_kz(a, v)))
        return tot

    # kinks in v where k_z = 0 or k_z = K at an end frequency
    pts = []
    for w in (w1, w2, W_T * (1 - 1e-13), W_T * (1 + 1e-13)):
        for target in (0.0, K * K):
            v = e_par(w) * (w * w - target / e_perp(w))
            if 0 < v < K * K:
                pts.append(v)
    rhs = integrate.quad(rhs_v, 0, K * K, points=sorted(pts), epsabs=0, epsrel=1e-11, limit=400)[0]
    assert rhs > 0
    assert lhs == pytest.approx(rhs, rel=1e-8)


# -- rates: limits ----------------------------------------------------------------------


def test_constant_eps_rates_are_the_existing_classes():
    e = e_index(1.5) + 1e-5
    assert r3.mode_rate(r3.DispersiveOrdinary(2.25), e_vg=e, **KW) == pytest.approx(
        r3.mode_rate(r3.Ordinary(2.25), e_vg=e, **KW), rel=1e-10
    )


@pytest.mark.slow
def test_constant_eps_extraordinary_grating_is_the_existing_class():
    """The same numbers through the 1/eps forms (the same quadrature nodes: agreement far below epsrel)."""
    e = e_index(1.5)
    g = 0.5 * 1.5 * e
    old = r3.mode_rate(r3.Extraordinary(2.25, 2.6), e_vg=e, g=g, epsrel=1e-6, **KW)
    new = r3.mode_rate(r3.DispersiveExtraordinary(2.25, 2.6), e_vg=e, g=g, epsrel=1e-6, **KW)
    assert old > 0
    assert new == pytest.approx(old, rel=1e-10)


def _iso_roots():
    h = lambda w: math.sqrt(EPS_POLE(w)) * w - r3._p_zero_momentum(w, M_I, M_J)
    low = optimize.brentq(h, 0.012, W_T * (1 - 1e-9), xtol=1e-300, rtol=8.9e-16)
    up = optimize.brentq(h, EPS_POLE.omega_L[0] * (1 + 1e-9), 0.024, xtol=1e-300, rtol=8.9e-16)
    return low, up


@pytest.mark.slow
@pytest.mark.parametrize("branch", ["lower", "upper", "upper_off"])
def test_equal_lorentz_axes_are_the_isotropic_medium(branch):
    """eps_perp = eps_par (the same pole): ordinary == extraordinary == the 1-D form with k = omega sqrt(eps)."""
    low, up = _iso_roots()
    e = {"lower": low, "upper": up, "upper_off": up + 4e-5}[branch]
    one = r3.isotropic_lorentz_rate_1d(EPS_POLE, e_vg=e, **KW)
    k_max = r3.k_perp_bound(M_I, M_J, T)
    assert one > 0
    assert r3.mode_rate(r3.DispersiveOrdinary(EPS_POLE), e_vg=e, **KW) == pytest.approx(one, rel=1e-7)
    ex = r3.DispersiveExtraordinary(EPS_POLE, EPS_POLE, k_max=k_max)
    assert r3.mode_rate(ex, e_vg=e, **KW) == pytest.approx(one, rel=1e-7)


# -- the azimuthal average --------------------------------------------------------------


def _direct_phi_average(q_lo, q_hi, w):
    """(1/pi) integral_0^pi d phi S(q(phi)) by quad over phi of `spectrum_S`, breaks where q crosses q_c + offsets."""
    a2, b2 = 0.5 * (q_lo**2 + q_hi**2), 0.5 * (q_hi**2 - q_lo**2)
    f = lambda ph: r3.spectrum_S(math.sqrt(a2 - b2 * math.cos(ph)), w, M_I, M_J, T, 1e-12)
    qc = r3._p_zero_momentum(w, M_I, M_J)
    pts = [math.acos((a2 - t * t) / b2) for t in (qc + o * T for o in r3._Q_OFFSETS) if q_lo < t < q_hi]
    return integrate.quad(f, 0, math.pi, points=sorted(pts) or None, epsabs=0, epsrel=1e-11, limit=400)[0] / math.pi


def test_arc_kernel_is_the_integral():
    """The elliptic closed form (addition theorem) == quad of 1/sqrt((q^2 - a^2)(b^2 - q^2)).

    Numerically with q = a + (b - a) sin^2(t/2), which leaves 1/sqrt((q + a)(b + q)) smooth.
    """
    a, b = 0.013, 0.031
    m = 1 - (a / b) ** 2
    t_of = lambda q: 2 * math.asin(math.sqrt((q - a) / (b - a)))
    for q1, q2 in ((a, b), (a, 0.02), (0.02, b), (0.015, 0.016), (0.0301, 0.0309), (0.02, 0.02)):

        def h(t):
            q = a + (b - a) * math.sin(t / 2) ** 2
            return 1 / math.sqrt((q + a) * (b + q))

        num = integrate.quad(h, t_of(q1), t_of(q2), epsabs=0, epsrel=1e-13, limit=200)[0]
        got = r3._arc_kernel(np.array([q1]), np.array([q2]), np.array([a]), np.array([b]), np.array([m]))[0]
        assert got == pytest.approx(num, rel=1e-11, abs=1e-14 * got + 1e-300)


def test_azimuthal_average_against_direct_phi_quadrature():
    checked = 0
    for w in (0.0195, 0.024):
        qc = r3._p_zero_momentum(w, M_I, M_J)
        for a, b in ((qc - 0.01, qc + 0.01), (qc - 1e-3, qc - 1e-4), (qc + 2e-4, qc + 3e-3), (qc - 1e-6, qc + 1e-6), (0.002, qc)):
            m = (b - a) * (b + a) / (b * b)
            got = r3.azimuthal_S(a, b, m, w, M_I, M_J, T, 1e-12)
            want = _direct_phi_average(a, b, w)
            assert want > 0
            assert got == pytest.approx(want, rel=1e-10)
            checked += 1
        # m = 0 is S itself, at and around q_c
        for q in (qc - 3e-3, qc, qc + 2e-5, qc + 4e-3):
            assert r3.azimuthal_S(q, q, 0.0, w, M_I, M_J, T, 1e-12) == pytest.approx(
                r3.spectrum_S(q, w, M_I, M_J, T, 1e-12), rel=1e-11
            )
    # many rows at once == one at a time
    qc = r3._p_zero_momentum(0.0195, M_I, M_J)
    lo = np.array([qc - 2e-3, qc, 0.01, qc + 1e-3])
    hi = np.array([qc + 1e-3, qc, 0.03, qc + 5e-3])
    m = np.where(hi > lo, (hi - lo) * (hi + lo) / hi**2, 0.0)
    rows = r3._azimuthal_S_vec(lo, hi, m, 0.0195, M_I, M_J, T, 1e-11)
    for j in range(4):
        assert rows[j] == pytest.approx(r3.azimuthal_S(lo[j], hi[j], m[j], 0.0195, M_I, M_J, T, 1e-11), rel=1e-10)
    assert checked == 10


# -- the tilted grating -----------------------------------------------------------------


def test_tilted_small_angle_and_sign_of_g():
    """At fixed omega: theta -> 0 (the arc kernel with m ~ 1e-12) joins theta = 0 (S itself); M(+g) = M(-g)."""
    e = e_index(1.5)
    g = 0.5 * 1.5 * e
    mode = r3.Extraordinary(2.25, 2.6)
    for w in (e, e - 1e-3):
        m0 = r3._tilted_k_perp_integral(mode, w, g, 0.0, M_I, M_J, T, 1e-10, 1e-12)
        assert m0 == pytest.approx(r3._k_perp_integral(mode, w, g, M_I, M_J, T, 1e-10, 1e-12), rel=1e-9)
        small = r3._tilted_k_perp_integral(mode, w, g, 1e-6, M_I, M_J, T, 1e-10, 1e-12)
        assert small == pytest.approx(m0, rel=1e-9)
        a = r3._tilted_k_perp_integral(mode, w, g, 0.7, M_I, M_J, T, 1e-10, 1e-12)
        b = r3._tilted_k_perp_integral(mode, w, -g, 0.7, M_I, M_J, T, 1e-10, 1e-12)
        c = r3._tilted_k_perp_integral(mode, w, g, 0.7 + math.pi, M_I, M_J, T, 1e-10, 1e-12)
        assert a > 0 and abs(a / m0 - 1) > 1e-3  # the tilt matters for an anisotropic mode
        assert b == pytest.approx(a, rel=1e-9)
        assert c == pytest.approx(a, rel=1e-9)


_INDEX_RATES = {}


def index_tilted(theta):
    """Index(1.5), g = k0/2 at the resonance, tilted by theta (epsrel 1e-7), once per module."""
    if theta not in _INDEX_RATES:
        e = e_index(1.5)
        _INDEX_RATES[theta] = r3.tilted_mode_rate(r3.Index(1.5), e_vg=e, g=0.75 * e, theta=theta, epsrel=1e-7, **KW)
    return _INDEX_RATES[theta]


@pytest.mark.audit  # the tilted reference serves the audit tests only; full rates, tens of seconds
@pytest.mark.slow
def test_tilted_theta0_is_mode_rate():
    e = e_index(1.5)
    ref = r3.mode_rate(r3.Index(1.5), e_vg=e, g=0.75 * e, epsrel=1e-8, **KW)
    assert ref > 0
    assert index_tilted(0.0) == pytest.approx(ref, rel=1e-8)


@pytest.mark.audit
@pytest.mark.slow
@pytest.mark.parametrize("theta", [0.7, math.pi / 2])
def test_tilted_index_is_independent_of_theta(theta):
    assert index_tilted(theta) == pytest.approx(index_tilted(0.0), rel=1e-7)


def _swapped_M(mode, w, g, theta, epsrel):
    """M(omega) with the azimuth outermost and v inside, S direct (no arc kernel, no elliptic integrals).

    (1/4)(1/pi) integral_0^pi d phi integral dv sum_(+-k_z) |dk_z/d omega| a S(|k - G|),
    k = (k_perp cos phi, k_perp sin phi, +-k_z), G = g (sin theta, 0, cos theta);
    v = v_a + (v_b - v_a) sin^2(s/2), cut where |k - G| crosses q_c + offsets at this phi.
    """
    va, vb = mode.v_interval(w)
    span = vb - va
    gx, gz = g * math.sin(theta), g * math.cos(theta)
    qc = r3._p_zero_momentum(w, M_I, M_J)

    def geo(s):
        sh, ch = math.sin(s / 2), math.cos(s / 2)
        v = va + span * sh * sh
        kz, jac = mode._kz_jac(w, v, span * sh * sh, span * ch * ch)
        return v, kz, jac

    def qs(v, kz, ph):
        kp = math.sqrt(v)
        base = (kp * math.cos(ph) - gx) ** 2 + (kp * math.sin(ph)) ** 2
        return math.sqrt(base + (kz - gz) ** 2), math.sqrt(base + (kz + gz) ** 2)

    def inner(ph):
        grid = np.linspace(0, math.pi, 201)
        qq = np.array([qs(*geo(s)[:2], ph) for s in grid])
        pts = []
        for col in (0, 1):
            for off in r3._Q_OFFSETS:
                d = qq[:, col] - qc - off * T
                for j in np.nonzero(d[:-1] * d[1:] < 0)[0]:
                    fn = lambda s: qs(*geo(s)[:2], ph)[col] - qc - off * T
                    pts.append(optimize.brentq(fn, grid[j], grid[j + 1], xtol=1e-14))

        def h(s):
            v, kz, jac = geo(s)
            qp, qm = qs(v, kz, ph)
            ss = r3.spectrum_S(qp, w, M_I, M_J, T, 1e-11) + r3.spectrum_S(qm, w, M_I, M_J, T, 1e-11)
            return 0.25 * 0.5 * span * math.sin(s) * jac * (v + kz * kz) / w * ss

        return integrate.quad(h, 0, math.pi, points=sorted(pts) or None, epsabs=0, epsrel=0.1 * epsrel, limit=400)[0]

    return integrate.quad(inner, 0, math.pi, epsabs=0, epsrel=epsrel, limit=200)[0] / math.pi


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    ["extraordinary", "hyperbola_perp", "hyperbola_par"],
)
def test_tilted_anisotropic_in_the_other_order(case):
    """A tilted G on an anisotropic mode: M(omega) from the arc kernel == the azimuth outermost with S direct."""
    if case == "extraordinary":
        e = e_index(1.5)
        mode, g, ws = r3.Extraordinary(2.25, 2.6), 0.75 * e, (e, e + 1.5e-3)
    elif case == "hyperbola_perp":
        mode, g, ws = hyp_perp(G_TILT), G_TILT, (E_HYP,)
    else:
        mode, g, ws = hyp_par(G_TILT), G_TILT, (E_HYP,)
    for w in ws:
        ref = r3._tilted_k_perp_integral(mode, w, g, 0.7, M_I, M_J, T, 1e-10, 1e-12)
        assert ref > 0
        assert _swapped_M(mode, w, g, 0.7, 1e-8) == pytest.approx(ref, rel=1e-7)


# -- the exported cases -----------------------------------------------------------------


def test_exported_cases_are_complete():
    names = set(r3.EXTRA_CASES)
    assert {"iso_lorentz_upper", "hyperbola_perp", "hyperbola_par", "index_tilted", "hyperbola_perp_tilted"} <= names
    for name, case in r3.EXTRA_CASES.items():
        assert case["value"] > 0 and case["epsrel"] <= 1e-6, name
        mode = r3.case_mode(case)
        assert isinstance(mode, r3._Mode)
        if case.get("k_max") is not None:
            assert case["k_max"] >= r3.k_perp_bound(case["m_i"], case["m_j"], case["T"], case["g"]) * (1 - 1e-12)
    # the E_vg of the isotropic cases are the p = 0 roots on the two branches
    low, up = _iso_roots()
    assert r3.EXTRA_CASES["iso_lorentz_lower"]["e_vg"] == pytest.approx(low, rel=1e-14)
    assert r3.EXTRA_CASES["iso_lorentz_upper"]["e_vg"] == pytest.approx(up, rel=1e-14)
    # E_vg = 0.018 lies in both hyperbolic bands, and the surface there reaches |k| = q_c
    for name, regime in (("hyperbola_perp", "hyperbola_perp"), ("hyperbola_par", "hyperbola_par")):
        case = r3.EXTRA_CASES[name]
        mode = r3.case_mode(case)
        w = case["e_vg"]
        assert mode.regime(w) == regime
        qc = r3._p_zero_momentum(w, M_I, M_J)
        va, vb = mode.v_interval(w)
        ks = [math.hypot(math.sqrt(v), mode.kz_roots(w, math.sqrt(v))[0]) for v in np.linspace(va, vb, 201)]
        assert min(ks) < qc < max(ks)


@pytest.mark.slow
def test_exported_case_reproduces():
    case = r3.EXTRA_CASES["iso_lorentz_upper"]
    assert r3.case_rate(case) == pytest.approx(case["value"], rel=10 * case["epsrel"])
