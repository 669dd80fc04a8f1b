"""Slow, independent 3-D reference for the momentum-averaged rate (tests only).

Shares no code with `cnbfluor`: plain `math`, NumPy and SciPy. The rate per
neutrino of one photon mode of a uniaxial medium (axis z), PHYSICS.md Sec. 9,

    R = (1/Z) integral d^3k/(4 pi) a(|k|, omega) L(E_vg - omega(k)) S(|k - G|, omega(k)),

over all k (both signs of k_z), with a = |k|^2/omega (M1, unit prefactor),
L(x) = 1/(x^2 + width^2/4), Fermi-Dirac neutrinos and G = (0, 0, g). It is a
nested adaptive `scipy.integrate.quad`:

* outermost the photon energy omega = E_vg + (width/2) sinh(u), which turns
  L d omega into (2/width) du / cosh(u) and resolves the Lorentzian core;
  the u axis is cut at E_vg, at the band edges of the mode on the axis and at
  the axial p = 0 roots, and every piece is mapped u = u_a + (u_b - u_a)
  sin^2(phi/2) so that square-root cusps at a break (band edges) are smooth;
* then v = k_perp^2 over the mode's interval [v_a, v_b] at fixed omega,
  d^3k/(4 pi) = (1/4) d omega dv sum_(+-k_z) |dk_z/d omega|_(k_perp), again
  mapped v = v_a + (v_b - v_a) sin^2(phi/2): the 1/sqrt divergence of
  |dk_z/d omega| at a band edge (|f| -> 1) and at k_z -> 0 is integrated up to
  the edge exactly, never by stopping short. Break points are put where
  |k - G| crosses the centre of the spectrum S and a few temperatures around it;
* innermost S(q, omega) = 2 pi integral dp p f(p) kE / q over the allowed
  interval, found by brentq on the two triangle conditions.

`isotropic_rate_1d` is the Sec. 6 form for |k| = n omega with its allowed
interval found a second way (closed-form quadratic roots and midpoint tests).

Added later (checked in tests/test_reference3d_extra.py):

* `LorentzEps`, `DispersiveOrdinary`, `DispersiveExtraordinary`: a uniaxial crystal
  with lossless Lorentz poles per axis, ellipse and both hyperbolic regimes, the
  hyperbolas cut at `k_perp_bound` (where S vanishes identically); usable with
  `mode_rate` and `grating_rate`; `isotropic_lorentz_rate_1d` is the 1-D form for
  k = omega sqrt(eps(omega));
* `tilted_mode_rate`, `tilted_grating_rate`: G = g (sin theta, 0, cos theta), the
  azimuth of k_perp averaged exactly (`azimuthal_S`: an incomplete elliptic integral
  inside the p integral of S);
* `EXTRA_CASES` (with `case_mode`, `case_rate`): the cases checked, with their values.
"""

import math
import warnings

import numpy as np
from scipy import integrate, optimize, special

ZETA3 = float(special.zeta(3.0))

#: Momenta above P_CUT * T carry weight < exp(-60): S integrates p from the
#: lower end a of the allowed interval to a + P_CUT * T, and is zero when a > P_MAX * T.
P_CUT = 60.0
P_MAX = 70.0
#: Offsets (in T) of the break points put around the centre of S in the k_perp integral.
_Q_OFFSETS = (0.0, 2.0, -2.0, 8.0, -8.0, 25.0, -25.0)


# --------------------------------------------------------------------------
# neutrinos


def fermi_dirac_Z(T):
    """Z = integral d^3p f(p) = 4 pi (3/2) zeta(3) T^3."""
    return 4.0 * math.pi * 1.5 * ZETA3 * T**3


def _fd(p, T):
    x = p / T
    if x > 700.0:
        return 0.0
    return 1.0 / (math.exp(x) + 1.0)


def _kE_integrand(p, omega, m_i, m_j, T):
    """p f(p) kappa E'_j with kappa E' = (E' + |p'|)/2."""
    e_out = math.hypot(m_i, p) - omega
    pp2 = (e_out - m_j) * (e_out + m_j)
    return p * _fd(p, T) * 0.5 * (e_out + math.sqrt(pp2 if pp2 > 0.0 else 0.0))


def _p_zero_momentum(omega, m_i, m_j):
    """|p'_j| at p = 0: the |k - G| that a neutrino at rest needs (None if closed)."""
    e_out = m_i - omega
    if e_out <= m_j:
        return None
    return math.sqrt((e_out - m_j) * (e_out + m_j))


def allowed_interval(q, omega, m_i, m_j, T):
    """Allowed p interval [a, b] (b cut at a + P_CUT T), or None.

    With B = m_i^2 - m_j^2 + omega^2 - q^2 and E_i = sqrt(m_i^2 + p^2):
    c <= 1  <=>  h1(p) = B + 2pq - 2 omega E_i >= 0   (concave in p),
    c >= -1 <=>  h2(p) = -B + 2pq + 2 omega E_i >= 0  (increasing in p),
    and E' = E_i - omega >= m_j. Each is one interval; so is their intersection.
    """
    if q <= 0.0 or omega <= 0.0:
        return None
    pmax = P_MAX * T
    phigh = pmax + P_CUT * T
    big_b = m_i * m_i - m_j * m_j + omega * omega - q * q

    def h1(p):
        return big_b + 2.0 * p * q - 2.0 * omega * math.hypot(m_i, p)

    def h2(p):
        return -big_b + 2.0 * p * q + 2.0 * omega * math.hypot(m_i, p)

    xtol = 1e-15 * T
    # E' >= m_j
    p_e = 0.0
    if omega + m_j > m_i:
        p_e = math.sqrt((omega + m_j) ** 2 - m_i * m_i)
        if p_e > pmax:
            return None
    # h2 >= 0: p >= a2
    if h2(0.0) >= 0.0:
        a2 = 0.0
    elif h2(pmax) < 0.0:
        return None
    else:
        a2 = optimize.brentq(h2, 0.0, pmax, xtol=xtol, rtol=8.9e-16, maxiter=500)
    # h1 >= 0: [a1, b1]; h1 rises up to p_star (where p/E_i = q/omega)
    if q < omega:
        p_star = m_i * q / math.sqrt((omega - q) * (omega + q))
    else:
        p_star = math.inf
    p_top = min(p_star, phigh)
    if h1(p_top) < 0.0:
        return None
    if h1(0.0) >= 0.0:
        a1 = 0.0
    else:
        a1 = optimize.brentq(h1, 0.0, p_top, xtol=xtol, rtol=8.9e-16, maxiter=500)
    if p_top < phigh and h1(phigh) < 0.0:
        b1 = optimize.brentq(h1, p_top, phigh, xtol=xtol, rtol=8.9e-16, maxiter=500)
    else:
        b1 = phigh
    a = max(a1, a2, p_e)
    if a > pmax:
        return None
    b = min(b1, a + P_CUT * T)
    if b <= a:
        return None
    return a, b


def spectrum_S(q, omega, m_i, m_j, T, epsrel=1e-10):
    """S(q, omega) = 2 pi integral_allowed dp p f(p) kE(p, omega) / q (isotropic FD neutrinos)."""
    iv = allowed_interval(q, omega, m_i, m_j, T)
    if iv is None:
        return 0.0
    a, b = iv
    val, _ = integrate.quad(
        _kE_integrand, a, b, args=(omega, m_i, m_j, T), epsabs=0.0, epsrel=epsrel, limit=200
    )
    return 2.0 * math.pi * val / q


# --------------------------------------------------------------------------
# photon modes
#
# Each mode gives, at fixed omega, the interval [v_a, v_b] of v = k_perp^2 on
# which it has a root, and at (omega, v) the positive root k_z and
# J = |dk_z/d omega|_(k_perp). `_kz_jac` also receives the distances da = v - v_a
# and db = v_b - v (computed without cancellation) for the edges.


class _Mode:
    def v_interval(self, omega):
        raise NotImplementedError

    def _kz_jac(self, omega, v, da, db):
        raise NotImplementedError

    def omega_breaks(self, lo, hi):
        """Frequencies in (lo, hi) where the mode's v interval changes form (band edges on the axis)."""
        return []

    def axis_kz(self, omega):
        """k_z >= 0 on the axis (k_perp = 0), or None when the axis is not in the mode at omega."""
        raise NotImplementedError

    def kz_roots(self, omega, k_perp):
        """The positive k_z roots at (omega, k_perp): a list with zero or one entry."""
        iv = self.v_interval(omega)
        if iv is None:
            return []
        v = k_perp * k_perp
        va, vb = iv
        if not va <= v <= vb:
            return []
        return [self._kz_jac(omega, v, v - va, vb - v)[0]]

    def dkz_domega(self, omega, k_perp):
        """|dk_z/d omega| at fixed k_perp, at the root of `kz_roots`."""
        iv = self.v_interval(omega)
        v = k_perp * k_perp
        if iv is None or not iv[0] <= v <= iv[1]:
            raise ValueError("no root at this (omega, k_perp)")
        return self._kz_jac(omega, v, v - iv[0], iv[1] - v)[1]


class _Spheroid(_Mode):
    """k_perp^2 / c_perp + k_z^2 / c_z = omega^2 (constants)."""

    def __init__(self, c_perp, c_z):
        self._cp = float(c_perp)
        self._cz = float(c_z)

    def v_interval(self, omega):
        return (0.0, self._cp * omega * omega)

    def _kz_jac(self, omega, v, da, db):
        # k_z^2 = c_z (omega^2 - v / c_perp) = (c_z / c_perp) (v_b - v)
        kz = math.sqrt(self._cz / self._cp * db)
        jac = self._cz * omega / kz if kz > 0.0 else math.inf
        return kz, jac

    def axis_kz(self, omega):
        return math.sqrt(self._cz) * omega


class Index(_Spheroid):
    """Isotropic index: |k| = n omega."""

    def __init__(self, n):
        self.n = float(n)
        super().__init__(self.n**2, self.n**2)

    def __repr__(self):
        return f"Index({self.n})"


class Ordinary(_Spheroid):
    """Ordinary wave of a uniaxial crystal: |k|^2 = eps_perp omega^2."""

    def __init__(self, eps_perp):
        self.eps_perp = float(eps_perp)
        super().__init__(self.eps_perp, self.eps_perp)

    def __repr__(self):
        return f"Ordinary({self.eps_perp})"


class Extraordinary(_Spheroid):
    """Extraordinary wave: k_perp^2 / eps_par + k_z^2 / eps_perp = omega^2."""

    def __init__(self, eps_perp, eps_par):
        self.eps_perp = float(eps_perp)
        self.eps_par = float(eps_par)
        super().__init__(self.eps_par, self.eps_perp)

    def __repr__(self):
        return f"Extraordinary({self.eps_perp}, {self.eps_par})"


# -- Bragg stack: layer functions of s = n^2 omega^2 - k_perp^2 (entire in s)


_C_COEF = [(-1) ** j / math.factorial(2 * j) for j in range(9)]
_S_COEF = [(-1) ** j / math.factorial(2 * j + 1) for j in range(9)]


def _layer(s, d):
    """C = cos(sqrt(s) d), Sq = sin(sqrt(s) d)/sqrt(s) and their s-derivatives (real for s < 0 too)."""
    z = s * d * d
    if z > 1e-2:
        r = math.sqrt(s)
        c, sn = math.cos(r * d), math.sin(r * d)
        sq = sn / r
        dsq = (d * c - sq) / (2.0 * s)
    elif z < -1e-2:
        r = math.sqrt(-s)
        c, sn = math.cosh(r * d), math.sinh(r * d)
        sq = sn / r
        dsq = (d * c - sq) / (2.0 * s)
    else:
        # series in z = s d^2 (|z| <= 1e-2: terms to z^8, error < 1e-20)
        c = sum(_C_COEF[j] * z**j for j in range(9))
        sq = d * sum(_S_COEF[j] * z**j for j in range(9))
        dsq = d**3 * sum(j * _S_COEF[j] * z ** (j - 1) for j in range(1, 9))
    dc = -0.5 * d * sq
    return c, sq, dc, dsq


class StackMode(_Mode):
    """Oblique Bragg stack (layers n1, d1, n2, d2), polarization "TE" or "TM", band index m >= 0.

    cos(k_z L) = f = C1 C2 - (1/2)(r s1 + s2 / r) Sq1 Sq2, s_i = n_i^2 omega^2 - k_perp^2,
    r = 1 (TE) or n2^2/n1^2 (TM): the same as (1/2)(e1/e2 + e2/e1) sin(q1 d1) sin(q2 d2) with
    e = q (TE), q / n^2 (TM), real on both sides of s = 0.

    Band m at fixed omega: in mu = -k_perp^2 the operator is of Hill type, so f is
    monotone inside each pass band and has exactly one critical point in each gap
    (closed gaps included) and none below the lowest band. Band m is the monotone
    piece between the m-th and (m+1)-th critical points counted from k_perp = n_max omega
    down, cut to |f| <= 1.
    """

    _SCAN = 400

    def __init__(self, n1, d1, n2, d2, polarization="TE", band=0):
        self.n1, self.d1, self.n2, self.d2 = float(n1), float(d1), float(n2), float(d2)
        if polarization not in ("TE", "TM"):
            raise ValueError("polarization is 'TE' or 'TM'")
        self.polarization = polarization
        self.band = int(band)
        self.L = self.d1 + self.d2
        self.r = 1.0 if polarization == "TE" else (self.n2 / self.n1) ** 2
        self._axis_cache = {}
        self._band_cache = {}

    def __repr__(self):
        return (
            f"StackMode({self.n1}, {self.d1}, {self.n2}, {self.d2}, {self.polarization!r}, band={self.band})"
        )

    # f and its partial derivatives
    def f_parts(self, omega, v):
        """(f, df/d omega, df/dv) at v = k_perp^2."""
        n1s, n2s, r = self.n1**2, self.n2**2, self.r
        s1 = n1s * omega * omega - v
        s2 = n2s * omega * omega - v
        c1, q1, dc1, dq1 = _layer(s1, self.d1)
        c2, q2, dc2, dq2 = _layer(s2, self.d2)
        mix = r * s1 + s2 / r
        f = c1 * c2 - 0.5 * mix * q1 * q2
        f1 = dc1 * c2 - 0.5 * (r * q1 * q2 + mix * dq1 * q2)
        f2 = c1 * dc2 - 0.5 * (q1 * q2 / r + mix * q1 * dq2)
        return f, 2.0 * omega * (n1s * f1 + n2s * f2), -(f1 + f2)

    def f(self, omega, v):
        return self.f_parts(omega, v)[0]

    def _kz_from_f(self, f):
        m = self.band
        theta = math.acos(min(1.0, max(-1.0, f)))
        if m % 2 == 0:
            return (m * math.pi + theta) / self.L
        return ((m + 1) * math.pi - theta) / self.L

    def _crit_points_v(self, omega):
        """Critical points of f in v on (0, v_max), descending (from v_max down)."""
        vmax = (max(self.n1, self.n2) * omega) ** 2
        grid = np.linspace(0.0, vmax, self._SCAN + 1)
        dfv = np.array([self.f_parts(omega, v)[2] for v in grid])
        out = []
        g = lambda v: self.f_parts(omega, v)[2]
        for j in range(self._SCAN):
            a, b = dfv[j], dfv[j + 1]
            if a == 0.0 and 0 < j:
                out.append(grid[j])
            elif a * b < 0.0:
                out.append(optimize.brentq(g, grid[j], grid[j + 1], xtol=1e-300, rtol=8.9e-16, maxiter=500))
        return vmax, sorted(out, reverse=True)

    def _band_v(self, omega):
        """(v_a, v_b, a_is_edge) of band m at omega, or None."""
        if omega <= 0.0:
            return None
        m = self.band
        vmax, crit = self._crit_points_v(omega)
        if m == 0:
            hi = vmax
        elif len(crit) >= m:
            hi = crit[m - 1]
        else:
            return None
        lo = crit[m] if len(crit) > m else 0.0
        s_start = 1.0 if m % 2 == 0 else -1.0  # f at the band bottom (large k_perp end)
        s_end = -s_start
        f = lambda v: self.f(omega, v)
        fhi, flo = s_start * f(hi), s_start * f(lo)
        if flo > 1.0:
            return None  # f never enters [-1, 1] on this monotone piece
        if fhi <= 1.0:
            vb = hi
        else:
            vb = optimize.brentq(lambda v: f(v) - s_start, lo, hi, xtol=1e-300, rtol=8.9e-16, maxiter=500)
        if s_end * f(lo) >= 1.0 and lo < vb:
            try:
                va = optimize.brentq(lambda v: f(v) - s_end, lo, vb, xtol=1e-300, rtol=8.9e-16, maxiter=500)
            except ValueError:
                va = lo
            a_edge = True
        else:
            va = lo
            a_edge = lo > 0.0
        if vb <= va:
            return None
        return va, vb, a_edge

    def v_interval(self, omega):
        b = self._band_cache.get(omega)
        if b is None:
            b = self._band_v(omega) or False
            if len(self._band_cache) > 64:
                self._band_cache.clear()
            self._band_cache[omega] = b
        return (b[0], b[1]) if b else None

    def _kz_jac(self, omega, v, da, db):
        f, fw, fv = self.f_parts(omega, v)
        kz = self._kz_from_f(f)
        dd = (1.0 - f) * (1.0 + f)
        if dd < 1e-8:
            # Within ~1e-8 of |f| = 1 the rounding of f (~1e-16) would dominate 1 - f^2.
            # At a band edge v_e (|f(v_e)| = 1) use instead 1 - |f(v)| = |f_v(v_mid)| |v_e - v|
            # with the midpoint v_mid (exact to second order; also at a closed gap, f_v(v_e) = 0).
            band = self._band_cache.get(omega) or self._band_v(omega)
            if band:
                va, vb, a_edge = band
                if db <= da or not a_edge:
                    dist, v_mid = db, vb - 0.5 * db
                else:
                    dist, v_mid = da, va + 0.5 * da
                if dist == db or a_edge:
                    one_minus = abs(self.f_parts(omega, v_mid)[2]) * dist
                    if 0.0 < one_minus < 1e-6:
                        dd = one_minus * (2.0 - one_minus)
        if dd <= 0.0:
            return kz, 0.0 if fw == 0.0 else math.inf
        return kz, abs(fw) / (self.L * math.sqrt(dd))

    # axis (k_perp = 0)
    def _axis_band(self):
        """[omega_bot, omega_top] of band m on the axis (k_perp = 0), from the critical points of f in omega."""
        key = "band"
        if key in self._axis_cache:
            return self._axis_cache[key]
        m = self.band
        # scan up to (m + 2) pi / (n_min L), a generous bound for the top of band m
        w_hi = (m + 2) * math.pi / (min(self.n1, self.n2) * self.L)
        n = 4000
        grid = np.linspace(w_hi * 1e-4, w_hi, n + 1)
        dfw = np.array([self.f_parts(w, 0.0)[1] for w in grid])
        g = lambda w: self.f_parts(w, 0.0)[1]
        crit = []
        for j in range(n):
            a, b = dfw[j], dfw[j + 1]
            if a * b < 0.0:
                crit.append(optimize.brentq(g, grid[j], grid[j + 1], xtol=1e-300, rtol=8.9e-16, maxiter=500))
        f0 = lambda w: self.f(w, 0.0)
        if len(crit) < m:
            raise ValueError(f"band {m} not found on the axis below {w_hi} eV")
        lo = 0.0 if m == 0 else crit[m - 1]
        hi = crit[m] if len(crit) > m else w_hi
        s_start = 1.0 if m % 2 == 0 else -1.0
        if m == 0:
            w_bot = 0.0
        elif s_start * f0(lo) <= 1.0:
            w_bot = lo
        else:
            w_bot = optimize.brentq(lambda w: f0(w) - s_start, lo, hi, xtol=1e-300, rtol=8.9e-16)
        if -s_start * f0(hi) <= 1.0:
            w_top = hi
        else:
            w_top = optimize.brentq(lambda w: f0(w) + s_start, w_bot, hi, xtol=1e-300, rtol=8.9e-16)
        self._axis_cache[key] = (w_bot, w_top)
        return w_bot, w_top

    def axis_band_edges(self):
        """(omega_bottom, omega_top) of band m at normal incidence."""
        return self._axis_band()

    def omega_breaks(self, lo, hi):
        return [w for w in self._axis_band() if lo < w < hi]

    def axis_kz(self, omega):
        w_bot, w_top = self._axis_band()
        if not w_bot <= omega <= w_top:
            return None
        return self._kz_from_f(self.f(omega, 0.0))


# --------------------------------------------------------------------------
# the rate


def _k_perp_integral(mode, omega, g, m_i, m_j, T, epsrel, eps_s):
    """M(omega) = (1/4) integral dv sum_(+-k_z) |dk_z/d omega| a(|k|, omega) S(|k - G|, omega)."""
    iv = mode.v_interval(omega)
    if iv is None:
        return 0.0
    va, vb = iv
    span = vb - va
    if not span > 0.0:
        return 0.0
    q_c = _p_zero_momentum(omega, m_i, m_j)

    def geometry(phi):
        sh = math.sin(0.5 * phi)
        ch = math.cos(0.5 * phi)
        da, db = span * sh * sh, span * ch * ch
        v = va + da
        kz, jac = mode._kz_jac(omega, v, da, db)
        return v, kz, jac

    def qs(v, kz):
        return math.sqrt(v + (kz - g) ** 2), math.sqrt(v + (kz + g) ** 2)

    # break points where |k - G| crosses q_c + offsets (both roots +-k_z)
    points = []
    window = (P_MAX + 5.0) * T
    if q_c is not None:
        n = 128
        grid = np.linspace(0.0, math.pi, n + 1)
        qq = np.array([qs(*geometry(ph)[:2]) for ph in grid])
        near = np.any(np.abs(qq - q_c) < window)
        crosses = np.any(np.diff(np.sign(qq - q_c), axis=0) != 0)
        if not near and not crosses:
            return 0.0
        for col in range(2):
            if g == 0.0 and col == 1:
                break
            for off in _Q_OFFSETS:
                target = q_c + off * T
                dq = qq[:, col] - target
                for j in np.nonzero(dq[:-1] * dq[1:] < 0.0)[0]:
                    fn = lambda ph: qs(*geometry(ph)[:2])[col] - target
                    points.append(optimize.brentq(fn, grid[j], grid[j + 1], xtol=1e-14, rtol=8.9e-16))
    points = sorted(p for p in set(points) if 1e-12 < p < math.pi - 1e-12)

    def integrand(phi):
        v, kz, jac = geometry(phi)
        if jac == 0.0:
            return 0.0
        qp, qm = qs(v, kz)
        s = spectrum_S(qp, omega, m_i, m_j, T, eps_s)
        if g == 0.0:
            s *= 2.0
        else:
            s += spectrum_S(qm, omega, m_i, m_j, T, eps_s)
        if s == 0.0:
            return 0.0
        a = (v + kz * kz) / omega
        return 0.25 * 0.5 * span * math.sin(phi) * jac * a * s

    val, _ = integrate.quad(
        integrand, 0.0, math.pi, points=points or None, epsabs=0.0, epsrel=epsrel, limit=400
    )
    return val


def _axis_roots(mode, g, m_i, m_j, lo, hi, n=3000):
    """omega in (lo, hi) where |+-k_z(axis) - g| equals the p = 0 momentum q_c(omega)."""
    grid = np.linspace(lo, hi, n + 1)
    out = []
    for sign in (1.0, -1.0):
        def h(w):
            kz = mode.axis_kz(w)
            qc = _p_zero_momentum(w, m_i, m_j)
            if kz is None or qc is None:
                return math.nan
            return abs(sign * kz - g) - qc

        vals = np.array([h(w) for w in grid])
        for j in range(n):
            a, b = vals[j], vals[j + 1]
            if np.isfinite(a) and np.isfinite(b) and a * b < 0.0:
                out.append(optimize.brentq(h, grid[j], grid[j + 1], xtol=1e-300, rtol=8.9e-16))
    return out


def _lorentz_outer(func, e_vg, width, lo, hi, breaks, epsrel):
    """integral_lo^hi d omega L(E_vg - omega) func(omega), omega = E_vg + (width/2) sinh(u).

    The u axis is cut at E_vg and at `breaks`; each piece [u_a, u_b] is mapped
    u = u_a + (u_b - u_a) sin^2(phi/2), which makes a square-root cusp at a cut smooth.
    """
    half = 0.5 * width
    u_of = lambda w: math.asinh((w - e_vg) / half)
    cuts = sorted({u_of(w) for w in list(breaks) + [e_vg] if lo < w < hi} | {u_of(lo), u_of(hi)})
    total = 0.0
    for ua, ub in zip(cuts[:-1], cuts[1:]):
        du = ub - ua

        def integrand(phi, ua=ua, du=du):
            sh = math.sin(0.5 * phi)
            u = ua + du * sh * sh
            w = e_vg + half * math.sinh(u)
            val = func(w)
            if val == 0.0:
                return 0.0
            return val * (2.0 / width) / math.cosh(u) * 0.5 * du * math.sin(phi)

        val, _ = integrate.quad(integrand, 0.0, math.pi, epsabs=0.0, epsrel=epsrel, limit=400)
        total += val
    return total


def _omega_range(m_i, m_j, T):
    """Photon energies that any neutrino with p <= P_MAX T can emit."""
    return 1e-7, math.hypot(m_i, P_MAX * T) - m_j


def mode_rate(mode, *, m_i, m_j, T, e_vg, width, g=0.0, epsrel=1e-8, omega_points=()):
    """R_mode for one grating term G = (0, 0, g) (both signs of k_z, all k)."""
    lo, hi = _omega_range(m_i, m_j, T)
    eps_mid = max(epsrel * 0.1, 1e-13)
    eps_s = max(epsrel * 0.01, 1e-13)
    breaks = list(mode.omega_breaks(lo, hi)) + _axis_roots(mode, g, m_i, m_j, lo, hi) + list(omega_points)
    func = lambda w: _k_perp_integral(mode, w, g, m_i, m_j, T, eps_mid, eps_s)
    return _lorentz_outer(func, e_vg, width, lo, hi, breaks, epsrel) / fermi_dirac_Z(T)


def grating_rate(mode, *, m_i, m_j, T, e_vg, width, g, h, epsrel=1e-8):
    """R_0 + (h^2/4) (R_(+g) + R_(-g)), each term computed on its own."""
    kw = dict(m_i=m_i, m_j=m_j, T=T, e_vg=e_vg, width=width, epsrel=epsrel)
    r0 = mode_rate(mode, g=0.0, **kw)
    rp = mode_rate(mode, g=g, **kw)
    rm = mode_rate(mode, g=-g, **kw)
    return r0 + 0.25 * h * h * (rp + rm)


# --------------------------------------------------------------------------
# Sec. 6 form for an isotropic index (second method for the allowed interval)


def _allowed_closed_form(q, omega, m_i, m_j, T):
    """Allowed p interval from the squared triangle conditions (quadratic roots), then midpoint tests."""
    pmax = P_MAX * T
    phigh = pmax + P_CUT * T
    big_b = m_i * m_i - m_j * m_j + omega * omega - q * q
    # (B +- 2pq)^2 = 4 omega^2 (m_i^2 + p^2): A2 p^2 +- A1 p + A0 = 0 with
    # A0 = B^2 - 4 omega^2 m_i^2 = (B - 2 omega m_i)(B + 2 omega m_i), B - 2 omega m_i = q_c^2 - q^2.
    e_out0 = m_i - omega
    qc2 = (e_out0 - m_j) * (e_out0 + m_j)
    a2 = 4.0 * (q - omega) * (q + omega)
    a1 = 4.0 * big_b * q
    a0 = (qc2 - q * q) * (big_b + 2.0 * omega * m_i)
    cands = [0.0, phigh]
    for sgn in (1.0, -1.0):
        b1 = sgn * a1
        if a2 == 0.0:
            if b1 != 0.0:
                cands.append(-a0 / b1)
            continue
        disc = b1 * b1 - 4.0 * a2 * a0
        if disc < 0.0:
            continue
        sq = math.sqrt(disc)
        t = -0.5 * (b1 + math.copysign(sq, b1))
        if t != 0.0:
            cands += [t / a2, a0 / t]
    if omega + m_j > m_i:
        cands.append(math.sqrt((omega + m_j) ** 2 - m_i * m_i))
    cands = sorted(c for c in set(cands) if 0.0 <= c <= phigh)

    def ok(p):
        e_out = math.hypot(m_i, p) - omega
        if e_out < m_j or p <= 0.0:
            return False
        c = (p * p + q * q + m_j * m_j - e_out * e_out) / (2.0 * p * q)
        return -1.0 <= c <= 1.0

    pieces = [(x, y) for x, y in zip(cands[:-1], cands[1:]) if y > x and ok(0.5 * (x + y))]
    if not pieces:
        return None
    a, b = pieces[0][0], pieces[0][1]
    for x, y in pieces[1:]:
        if x != b:
            raise RuntimeError("allowed set is not one interval")
        b = y
    if a > pmax:
        return None
    return a, min(b, a + P_CUT * T)


def isotropic_rate_1d(n, *, m_i, m_j, T, e_vg, width, epsrel=1e-10):
    """(1/N) integral d omega L(E_vg - omega) (A/(2 k v_g)) integral dp p f(p) kE, |k| = n omega.

    A = a k^2 = k^4/omega, v_g = 1/n, N = integral p^2 f dp = (3/2) zeta(3) T^3.
    """
    n = float(n)
    norm = 1.5 * ZETA3 * T**3
    eps_in = max(epsrel * 0.01, 1e-13)

    def func(w):
        k = n * w
        iv = _allowed_closed_form(k, w, m_i, m_j, T)
        if iv is None:
            return 0.0
        val, _ = integrate.quad(
            _kE_integrand, iv[0], iv[1], args=(w, m_i, m_j, T), epsabs=0.0, epsrel=eps_in, limit=200
        )
        return (k**4 / w) * n / (2.0 * k) * val

    lo, hi = _omega_range(m_i, m_j, T)
    # kink of the integrand: the p = 0 root n omega = q_c(omega)
    root = optimize.brentq(
        lambda w: n * w - _p_zero_momentum(w, m_i, m_j), 1e-9, m_i - m_j, xtol=1e-300, rtol=8.9e-16
    )
    return _lorentz_outer(func, e_vg, width, lo, hi, [root], epsrel) / norm


def p0_root_index(n, m_i, m_j):
    """omega with n omega = |p'_j| at p = 0 (the resonant photon energy of |k| = n omega)."""
    return optimize.brentq(
        lambda w: n * w - _p_zero_momentum(w, m_i, m_j), 1e-9, m_i - m_j, xtol=1e-300, rtol=8.9e-16
    )


# --------------------------------------------------------------------------
# dispersive uniaxial crystal: lossless Lorentz poles per axis
#
# The extraordinary wave is written with the inverse permittivities
# i_perp = 1/eps_perp and i_par = 1/eps_par,
#
#     i_par k_perp^2 + i_perp k_z^2 = omega^2,
#
# which are smooth (rational, no pole) where eps itself has a pole: at a pole of
# eps_par the ellipse (i_par > 0) turns into the hyperbola (i_par < 0) through the
# pair of planes k_z = +-omega/sqrt(i_perp) (i_par = 0), and at a pole of eps_perp
# the surface passes through the cylinder k_perp^2 = omega^2 / i_par. Nothing is
# evaluated on a pole: with 1/eps no frequency needs to be kept off one (the
# outer quadrature only touches the break frequencies in the limit). A frequency
# that lands exactly on a pole of eps_perp or a zero of either eps (a set of
# measure zero; only rounding could produce one) is given no mode.
#
# The hyperbolic intervals are unbounded in k_perp. They are cut where the
# integrand vanishes exactly: S(|q|, omega) = 0 unless
# |q| <= q_bound = p_top + sqrt(m_i^2 + p_top^2 - m_j^2), p_top = (P_MAX + P_CUT) T
# (the largest neutrino momentum `allowed_interval` ever integrates, plus the
# largest outgoing momentum it can have, E'_j < E_i), and
# |q|^2 = |k - G|^2 >= (k_perp - |G_perp|)^2 and >= (|k_z| - |G_z|)^2. So
# k_perp <= k_max and |k_z| <= k_max with k_max = q_bound + |G| (`k_perp_bound`)
# loses nothing. The modes take this k_max as an argument (they do not know the
# neutrinos); with k_max = None the bounded surfaces are integrated whole and a
# hyperbolic one raises.


class LorentzEps:
    """eps(omega) = eps_inf + sum_j delta_eps_j omega_Tj^2 / (omega_Tj^2 - omega^2), lossless.

    `poles` is a sequence of (delta_eps_j, omega_Tj) with delta_eps_j > 0 and distinct
    omega_Tj > 0. Then eps' = 2 omega sum_j c_j / D_j^2 > 0 (c_j = delta_eps_j omega_Tj^2,
    D_j = omega_Tj^2 - omega^2): eps rises strictly between poles, from -inf to +inf, so
    it has exactly one zero omega_L between consecutive poles, one above the last pole
    if eps_inf > 0 and one below the first if eps(0) < 0 (found by brentq).
    """

    def __init__(self, eps_inf, poles=()):
        self.eps_inf = float(eps_inf)
        poles = sorted(((float(de), float(wt)) for de, wt in poles), key=lambda p: p[1])
        for de, wt in poles:
            if not (de > 0.0 and wt > 0.0):
                raise ValueError("each pole needs delta_eps > 0 and omega_T > 0")
        wts = [wt for _, wt in poles]
        if len(set(wts)) != len(wts):
            raise ValueError("poles must be distinct")
        self.pole_list = tuple(poles)
        self._c = [de * wt * wt for de, wt in poles]
        self._wt = wts
        self.omega_T = tuple(wts)
        self.omega_L = tuple(self._find_zeros())

    def __repr__(self):
        return f"LorentzEps({self.eps_inf}, {list(self.pole_list)})"

    def _split(self, w):
        """(c0, D0, R, R1): eps = R + c0 / D0 and eps' = 2 w c0 / D0^2 + R1, pole 0 the nearest one."""
        if not self._wt:
            return 0.0, 1.0, self.eps_inf, 0.0
        j0 = min(range(len(self._wt)), key=lambda j: abs(self._wt[j] - w))
        r, r1 = self.eps_inf, 0.0
        for j, (c, wt) in enumerate(zip(self._c, self._wt)):
            if j == j0:
                continue
            d = (wt - w) * (wt + w)
            r += c / d
            r1 += 2.0 * w * c / (d * d)
        wt0 = self._wt[j0]
        return self._c[j0], (wt0 - w) * (wt0 + w), r, r1

    def __call__(self, w):
        c0, d0, r, _ = self._split(w)
        if d0 == 0.0:
            return math.inf  # on a pole (sign undefined; callers treat it as no mode)
        return r + c0 / d0

    def deriv(self, w):
        """d eps / d omega = 2 omega sum_j c_j / D_j^2."""
        c0, d0, _, r1 = self._split(w)
        if d0 == 0.0:
            return math.inf
        return 2.0 * w * c0 / (d0 * d0) + r1

    def inverse(self, w):
        """1/eps = D0 / (c0 + D0 R): smooth through the poles (0 on a pole), inf at a zero of eps."""
        c0, d0, r, _ = self._split(w)
        den = c0 + d0 * r
        if den == 0.0:
            return math.inf
        return d0 / den

    def inverse_deriv(self, w):
        """d(1/eps)/d omega = -eps'/eps^2 = -(2 omega c0 + D0^2 R1) / (c0 + D0 R)^2 (finite on a pole)."""
        c0, d0, r, r1 = self._split(w)
        den = c0 + d0 * r
        if den == 0.0:
            return -math.inf
        return -(2.0 * w * c0 + d0 * d0 * r1) / (den * den)

    def _find_zeros(self):
        wts = self._wt
        f = self.__call__
        out = []
        tiny = 1e-13
        if not wts:
            return out
        # below the first pole: eps rises from eps(0) to +inf
        if f(0.0) < 0.0:
            out.append(optimize.brentq(f, 0.0, wts[0] * (1.0 - tiny), xtol=1e-300, rtol=8.9e-16, maxiter=500))
        # between poles: from -inf to +inf
        for a, b in zip(wts[:-1], wts[1:]):
            out.append(optimize.brentq(f, a * (1.0 + tiny), b * (1.0 - tiny), xtol=1e-300, rtol=8.9e-16, maxiter=500))
        # above the last pole: from -inf up to eps_inf
        if self.eps_inf > 0.0:
            hi = 2.0 * wts[-1]
            while f(hi) <= 0.0:
                hi *= 2.0
            out.append(optimize.brentq(f, wts[-1] * (1.0 + tiny), hi, xtol=1e-300, rtol=8.9e-16, maxiter=500))
        return out

    def breaks(self, lo, hi):
        """The poles omega_T and zeros omega_L in (lo, hi)."""
        return sorted(w for w in self.omega_T + self.omega_L if lo < w < hi)


def _as_eps(eps):
    return eps if isinstance(eps, LorentzEps) else LorentzEps(float(eps))


def k_perp_bound(m_i, m_j, T, g=0.0):
    """k_max = q_bound + |g|: beyond k_perp = k_max or |k_z| = k_max, S(|k - G|, omega) is zero.

    q_bound = p_top + sqrt(m_i^2 + p_top^2 - m_j^2), p_top = (P_MAX + P_CUT) T, bounds
    |q| <= p + |p'_j| over every momentum that `spectrum_S` integrates (see the block
    comment above LorentzEps).
    """
    p_top = (P_MAX + P_CUT) * T
    return p_top + math.sqrt(m_i * m_i + p_top * p_top - m_j * m_j) + abs(g)


class DispersiveOrdinary(_Mode):
    """Ordinary wave, |k|^2 = eps_perp(omega) omega^2 (exists where eps_perp > 0).

    Written with eps itself (not 1/eps): v = k_perp^2 in [0, eps omega^2],
    k_z^2 = eps omega^2 - v, |dk_z/d omega| = |2 eps omega + eps' omega^2| / (2 k_z);
    with k_max, k_perp <= k_max and k_z <= k_max.
    """

    def __init__(self, eps_perp, k_max=None):
        self.eps_perp = _as_eps(eps_perp)
        self.k_max = None if k_max is None else float(k_max)

    def __repr__(self):
        return f"DispersiveOrdinary({self.eps_perp!r}, k_max={self.k_max})"

    def _geom(self, omega):
        e = self.eps_perp(omega)
        if not (e > 0.0 and math.isfinite(e)) or omega <= 0.0:
            return None
        vnat = e * omega * omega
        va, vb = 0.0, vnat
        if self.k_max is not None:
            k2 = self.k_max * self.k_max
            vb = min(vnat, k2)
            va = max(0.0, vnat - k2)
        if not vb > va:
            return None
        return va, vb, vnat, e

    def v_interval(self, omega):
        gm = self._geom(omega)
        return None if gm is None else (gm[0], gm[1])

    def _kz_jac(self, omega, v, da, db):
        va, vb, vnat, e = self._geom(omega)
        kz2 = (vnat - vb) + db  # = vnat - v, exact at the edge vb = vnat
        kz = math.sqrt(kz2) if kz2 > 0.0 else 0.0
        num = abs(2.0 * e * omega + self.eps_perp.deriv(omega) * omega * omega)
        return kz, (num / (2.0 * kz) if kz > 0.0 else math.inf)

    def omega_breaks(self, lo, hi):
        return self.eps_perp.breaks(lo, hi)

    def axis_kz(self, omega):
        gm = self._geom(omega)
        if gm is None or gm[0] > 0.0:
            return None
        return math.sqrt(gm[3]) * omega


class DispersiveExtraordinary(_Mode):
    """Extraordinary wave, k_perp^2 / eps_par + k_z^2 / eps_perp = omega^2, both eps dispersive.

    With i = 1/eps: i_par v + i_perp k_z^2 = omega^2 (v = k_perp^2). At fixed omega:
    * i_perp > 0, i_par > 0: ellipse, v in [0, v_n], v_n = omega^2 / i_par (band edge k_z = 0 at v_n);
    * i_perp > 0 >= i_par: hyperbola k_z^2 = (omega^2 + v |i_par|) / i_perp, v in [0, inf);
    * i_par > 0 > i_perp: hyperbola k_z^2 = (v i_par - omega^2) / |i_perp|, v in [v_n, inf)
      (band edge k_z = 0 at v_n);
    * both negative: no mode.
    With k_max, k_perp <= k_max and |k_z| <= k_max (this is the cut of the hyperbolas).
    With `mode_rate` / `grating_rate` (which cannot check it) give
    k_max >= k_perp_bound(m_i, m_j, T, g_max); `tilted_mode_rate` checks it.
    At fixed k_perp, 2 k_z i_perp dk_z/d omega = 2 omega - v i_par' - k_z^2 i_perp',
    the omega-dependence of both permittivities included (i' = -eps'/eps^2).
    """

    def __init__(self, eps_perp, eps_par, k_max=None):
        self.eps_perp = _as_eps(eps_perp)
        self.eps_par = _as_eps(eps_par)
        self.k_max = None if k_max is None else float(k_max)

    def __repr__(self):
        return f"DispersiveExtraordinary({self.eps_perp!r}, {self.eps_par!r}, k_max={self.k_max})"

    def _need_cut(self):
        if self.k_max is None:
            raise ValueError("the extraordinary wave is a hyperbola here: give k_max (see k_perp_bound)")
        return self.k_max * self.k_max

    def regime(self, omega):
        """'ellipse', 'hyperbola_perp' (eps_perp > 0 > eps_par), 'hyperbola_par' (eps_par > 0 > eps_perp) or None."""
        ip, iq = self.eps_perp.inverse(omega), self.eps_par.inverse(omega)
        if not (math.isfinite(ip) and math.isfinite(iq)) or ip == 0.0:
            return None
        if ip > 0.0:
            return "ellipse" if iq > 0.0 else "hyperbola_perp"
        return "hyperbola_par" if iq > 0.0 else None

    def _geom(self, omega):
        """(v_a, v_b, edge, i_perp, i_par): edge is 'a' or 'b' when k_z = 0 at that end, else None."""
        if omega <= 0.0:
            return None
        ip, iq = self.eps_perp.inverse(omega), self.eps_par.inverse(omega)
        if not (math.isfinite(ip) and math.isfinite(iq)) or ip == 0.0:
            return None
        w2 = omega * omega
        if ip > 0.0 and iq > 0.0:  # ellipse
            vnat = w2 / iq
            va, vb, edge = 0.0, vnat, "b"
            if self.k_max is not None:
                k2 = self.k_max * self.k_max
                if vnat > k2:
                    vb, edge = k2, None
                va = max(0.0, (w2 - k2 * ip) / iq)  # k_z <= k_max
        elif ip > 0.0:  # i_par <= 0: hyperbola with k_z >= omega / sqrt(i_perp) (planes at i_par = 0)
            k2 = self._need_cut()
            if w2 > k2 * ip:
                return None
            va, vb, edge = 0.0, k2, None
            if iq < 0.0:
                vb = min(k2, (k2 * ip - w2) / (-iq))  # k_z <= k_max
        elif iq > 0.0:  # i_perp < 0 < i_par: hyperbola from the band edge v_n
            k2 = self._need_cut()
            vnat = w2 / iq
            va, vb, edge = vnat, min(k2, vnat + k2 * (-ip) / iq), "a"
        else:
            return None
        if not vb > va:
            return None
        return va, vb, edge, ip, iq

    def v_interval(self, omega):
        gm = self._geom(omega)
        return None if gm is None else (gm[0], gm[1])

    def _kz_jac(self, omega, v, da, db):
        va, vb, edge, ip, iq = self._geom(omega)
        if edge == "b":
            kz2 = iq / ip * db  # (i_par / i_perp) (v_n - v)
        elif edge == "a":
            kz2 = iq / (-ip) * da  # (i_par / |i_perp|) (v - v_n)
        else:
            kz2 = (omega * omega - v * iq) / ip
        kz = math.sqrt(kz2) if kz2 > 0.0 else 0.0
        num = 2.0 * omega - v * self.eps_par.inverse_deriv(omega) - kz2 * self.eps_perp.inverse_deriv(omega)
        if kz == 0.0:
            return kz, (0.0 if num == 0.0 else math.inf)
        return kz, abs(num) / (2.0 * kz * abs(ip))

    def omega_breaks(self, lo, hi):
        return sorted(set(self.eps_perp.breaks(lo, hi)) | set(self.eps_par.breaks(lo, hi)))

    def axis_kz(self, omega):
        gm = self._geom(omega)
        if gm is None or gm[0] > 0.0:
            return None
        return omega / math.sqrt(gm[3])


# --------------------------------------------------------------------------
# Sec. 6 form for an isotropic Lorentz medium, k(omega) = omega sqrt(eps(omega))


def isotropic_lorentz_rate_1d(eps, *, m_i, m_j, T, e_vg, width, epsrel=1e-10):
    """`isotropic_rate_1d` with |k| = omega sqrt(eps(omega)) (eps a LorentzEps; no mode where eps <= 0).

    (1/N) integral d omega L(E_vg - omega) (k^4/omega) (dk/d omega) / (2k) integral dp p f kE,
    dk/d omega = (2 eps + omega eps') / (2 sqrt(eps)); the allowed interval by
    `_allowed_closed_form`. Breaks at the poles and zeros of eps and at every p = 0
    root k(omega) = q_c(omega) (a scan of each piece, then brentq).
    """
    eps = _as_eps(eps)
    norm = 1.5 * ZETA3 * T**3
    eps_in = max(epsrel * 0.01, 1e-13)

    def func(w):
        e = eps(w)
        if not (e > 0.0 and math.isfinite(e)):
            return 0.0
        se = math.sqrt(e)
        k = se * w
        iv = _allowed_closed_form(k, w, m_i, m_j, T)
        if iv is None:
            return 0.0
        val, _ = integrate.quad(
            _kE_integrand, iv[0], iv[1], args=(w, m_i, m_j, T), epsabs=0.0, epsrel=eps_in, limit=200
        )
        dkdw = (2.0 * e + w * eps.deriv(w)) / (2.0 * se)
        return (k**4 / w) * dkdw / (2.0 * k) * val

    lo, hi = _omega_range(m_i, m_j, T)
    poles = eps.breaks(lo, hi)
    cuts = [lo] + poles + [hi]
    roots = []

    def h(w):
        e = eps(w)
        qc = _p_zero_momentum(w, m_i, m_j)
        if not (e > 0.0 and math.isfinite(e)) or qc is None:
            return math.nan
        return math.sqrt(e) * w - qc

    for a, b in zip(cuts[:-1], cuts[1:]):
        grid = np.linspace(a, b, 801)[1:-1]
        vals = np.array([h(w) for w in grid])
        for j in np.nonzero(vals[:-1] * vals[1:] < 0.0)[0]:
            roots.append(optimize.brentq(h, grid[j], grid[j + 1], xtol=1e-300, rtol=8.9e-16))
    return _lorentz_outer(func, e_vg, width, lo, hi, poles + roots, epsrel) / norm


# --------------------------------------------------------------------------
# a grating tilted from the optic axis: G = g (sin theta, 0, cos theta)
#
# |k - G|^2 = k_perp^2 + k_z^2 + g^2 - 2 g (k_perp sin(theta) cos(phi) + k_z cos(theta))
# depends on the azimuth phi of k_perp, and d^3k/(4 pi) = (1/4) dv (d phi / 2 pi) dk_z
# (v = k_perp^2). For one root (v, +-k_z), q^2 = A - B cos(phi) runs monotonically over
# [q_lo^2, q_hi^2] as phi goes over [0, pi] (and back over [pi, 2 pi]), with
# q_lo = hypot(k_perp - |g sin theta|, +-k_z - g cos theta), q_hi the same with +.
# The azimuthal average <S> = (1/pi) integral_0^pi d phi S(q(phi), omega) is done
# exactly in phi: with 2 q dq = B sin(phi) d phi and S = (2 pi / q) integral p f kE dp,
#
#     <S> = 4 integral dp p f(p) kE(p, omega) K(p),
#     K(p) = integral dq / sqrt((q^2 - q_lo^2)(q_hi^2 - q^2)) over [q_lo, q_hi] ∩ [|p - p'|, p + p'],
#
# (q is reached from p iff |p - p'| <= q <= p + p', p' = |p'_j|, which is what
# `allowed_interval` solves) and K is an incomplete elliptic integral of the first
# kind: q^2 = q_hi^2 - (q_hi^2 - q_lo^2) sin^2(psi) gives
# dq / sqrt(...) = -d psi / (q_hi sqrt(1 - m sin^2 psi)), m = 4 |g sin theta| k_perp / q_hi^2.
# K(p) has square-root kinks where |p - p'| or p + p' crosses q_lo or q_hi: the ends
# of the reachable sets of q_lo and q_hi (closed-form roots, `_triangle_roots`); the
# p axis is cut there and each piece sin^2-mapped, as the outer integrals are.
#
# Speed: the v and p integrals of the tilted rate are vectorised (`_adaptive_gl`, a
# bisecting Gauss-Legendre rule with a conservative error estimate, all panels of a
# round in one NumPy call); the omega integral is the `quad` of `_lorentz_outer`, as in
# `mode_rate`. `_azimuthal_S_vec` agrees with a quad over phi of `spectrum_S` to 1e-12
# (tests/test_reference3d_extra.py).


def _arc_kernel(q1, q2, a, b, m):
    """integral_{q1}^{q2} dq / sqrt((q^2 - a^2)(b^2 - q^2)), a <= q1 <= q2 <= b, m = 1 - a^2/b^2 (arrays).

    With q^2 = b^2 - (b^2 - a^2) sin^2(psi): dq / sqrt(...) = -d psi / (b sqrt(1 - m sin^2 psi)), so
    the integral is [F(psi_1 | m) - F(psi_2 | m)] / b (incomplete elliptic integral of the first
    kind, psi_i = psi(q_i)), and by the addition theorem of the Jacobi functions
    (sn(u - v) = (sn u cn v dn v - sn v cn u dn u) / (1 - m sn^2 u sn^2 v), cn likewise)
    F(psi_1) - F(psi_2) = F(w) with w from its sine and cosine: one `ellipkinc` per value.
    """
    d = (b - a) * (b + a)
    s1 = np.sqrt(np.clip((b - q1) * (b + q1) / d, 0.0, 1.0))
    c1 = np.sqrt(np.clip((q1 - a) * (q1 + a) / d, 0.0, 1.0))
    s2 = np.sqrt(np.clip((b - q2) * (b + q2) / d, 0.0, 1.0))
    c2 = np.sqrt(np.clip((q2 - a) * (q2 + a) / d, 0.0, 1.0))
    d1 = np.sqrt(1.0 - m * s1 * s1)
    d2 = np.sqrt(1.0 - m * s2 * s2)
    den = 1.0 - m * (s1 * s2) ** 2
    sw = (s1 * c2 * d2 - s2 * c1 * d1) / den
    cw = (c1 * c2 + s1 * d1 * s2 * d2) / den
    full = (q1 <= a) & (q2 >= b)  # the whole arc: F(pi/2) = K(m)
    out = np.empty(np.shape(q1))
    out[full] = special.ellipk(m[full])
    part = ~full
    out[part] = special.ellipkinc(np.arctan2(sw[part], cw[part]), m[part])
    return out / b


_GL_RULES = {}
#: Gauss-Legendre orders of the p and v integrals of the tilted rate.
_P_ORDER = 8
_V_ORDER = 6
#: Most integrand values that one round of `_adaptive_gl` may ask for (a guard on memory).
_MAX_NODES = 4_000_000
#: Rows of `_azimuthal_S_vec` per call.
_ROW_CHUNK = 1024


def _gl_rule(n):
    """n-point Gauss-Legendre nodes and weights on [-1, 1], and the nodes of the two halves."""
    if n not in _GL_RULES:
        x, w = np.polynomial.legendre.leggauss(n)
        _GL_RULES[n] = (x, w, np.concatenate([0.5 * (x - 1.0), 0.5 * (x + 1.0)]))
    return _GL_RULES[n]


def _adaptive_gl(fvec, a, b, group, ngroups, epsrel, max_rounds=50, order=8):
    """integral over the panels [a_i, b_i], summed per group: vectorised adaptive Gauss-Legendre.

    Each panel carries its `order`-point Gauss-Legendre value I1 and is split in two
    halves (I2 = the same rule on each); it is accepted when
    |I2 - I1| <= epsrel |total of its group| (panel length / group length), a
    conservative bound on the error of I2 (for a smooth integrand the error of
    the halved rule is far below the difference), else the halves go on as new
    panels with their I1 known. All panels of a round are evaluated in one call
    fvec(t, pid): t has one row of nodes per panel, pid the index of the panel's
    original piece (fvec looks its parameters up with it). Returns an array (ngroups,).
    """
    x, w, halves = _gl_rule(order)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    group = np.asarray(group, dtype=np.intp)
    acc = np.zeros(ngroups)
    if a.size == 0:
        return acc
    pid = np.arange(a.size)
    glen = np.bincount(group, weights=b - a, minlength=ngroups)
    c, hw = 0.5 * (a + b), 0.5 * (b - a)
    vals = fvec(c[:, None] + hw[:, None] * np.concatenate([x, halves])[None, :], pid)
    if not np.isfinite(vals).all():
        raise FloatingPointError("non-finite integrand in _adaptive_gl")
    i1 = hw * (vals[:, :order] @ w)
    vals = vals[:, order:]
    for _ in range(max_rounds):
        il = 0.5 * hw * (vals[:, :order] @ w)
        ir = 0.5 * hw * (vals[:, order:] @ w)
        i2 = il + ir
        err = np.abs(i2 - i1)
        est = acc + np.bincount(group, weights=i2, minlength=ngroups)
        # accepted as well: a difference at the rounding level of the panel's own sum
        ok = (err <= epsrel * np.abs(est[group]) * (b - a) / glen[group]) | (err <= 1e-13 * np.abs(i2))
        acc += np.bincount(group[ok], weights=i2[ok], minlength=ngroups)
        if ok.all():
            return acc
        bad = ~ok
        if 2 * bad.sum() * vals.shape[1] > _MAX_NODES:
            raise RuntimeError("_adaptive_gl: too many panels (tolerance out of reach?)")
        a = np.concatenate([a[bad], c[bad]])
        b = np.concatenate([c[bad], b[bad]])
        i1 = np.concatenate([il[bad], ir[bad]])
        group = np.concatenate([group[bad], group[bad]])
        pid = np.concatenate([pid[bad], pid[bad]])
        c, hw = 0.5 * (a + b), 0.5 * (b - a)
        vals = fvec(c[:, None] + hw[:, None] * halves[None, :], pid)
        if not np.isfinite(vals).all():
            raise FloatingPointError("non-finite integrand in _adaptive_gl")
    # not converged in max_rounds bisections: take the last estimate of what is left
    warnings.warn(f"_adaptive_gl: {len(a)} panels not converged after {max_rounds} bisections", RuntimeWarning)
    il = 0.5 * hw * (vals[:, :order] @ w)
    ir = 0.5 * hw * (vals[:, order:] @ w)
    acc += np.bincount(group, weights=il + ir, minlength=ngroups)
    return acc


def _triangle_roots(q, omega, m_i, m_j):
    """Ends in p of the set where q is reachable (arrays q): roots of h1 = 0 and h2 = 0.

    (B +- 2pq)^2 = 4 omega^2 (m_i^2 + p^2), B = m_i^2 - m_j^2 + omega^2 - q^2, as in
    `_allowed_closed_form`; a root of the + (-) equation is a root of h1 (h2) of
    `allowed_interval` when B + 2pq >= 0 (B - 2pq >= 0), else it came from squaring
    and is dropped. Four arrays, nan where a root is complex or spurious.
    """
    q = np.asarray(q, dtype=float)
    big_b = m_i * m_i - m_j * m_j + omega * omega - q * q
    e_out0 = m_i - omega
    qc2 = (e_out0 - m_j) * (e_out0 + m_j)
    a2 = 4.0 * (q - omega) * (q + omega)
    a1 = 4.0 * big_b * q
    a0 = (qc2 - q * q) * (big_b + 2.0 * omega * m_i)
    disc = a1 * a1 - 4.0 * a2 * a0
    sq = np.sqrt(np.where(disc >= 0.0, disc, np.nan))
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for sgn in (1.0, -1.0):
            b1 = sgn * a1
            t = -0.5 * (b1 + np.copysign(sq, b1))
            r1 = np.where(a2 != 0.0, t / a2, -a0 / b1)
            r2 = np.where(a2 != 0.0, a0 / t, np.nan)
            for r in (r1, r2):
                out.append(np.where(big_b + sgn * 2.0 * r * q >= 0.0, r, np.nan))
    return out


def _azimuthal_S_vec(q_lo, q_hi, m, omega, m_i, m_j, T, epsrel):
    """<S>_phi for arrays (q_lo, q_hi, m); rows with m = 0 give S(q_lo) (the azimuth does not matter).

    <S> = 4 integral dp p f kE K(p) with K the arc kernel (m > 0) or pi/(2q) on the
    reachable set (m = 0: 4 pi/(2q) = 2 pi/q, S itself), truncated as `spectrum_S` is
    (p from the start p_a of the reachable set to p_a + P_CUT T, zero if p_a > P_MAX T).
    The p axis [0, (P_MAX + P_CUT) T] is cut at every candidate end (`_triangle_roots` of q_lo and q_hi, and E'_j = m_j);
    between two cuts the integrand is either zero throughout (dropped, by a midpoint test)
    or positive with square-root kinks only at the ends, so each piece is mapped
    p = x + (y - x) sin^2(t/2) (the last one exponentially, to spread the thermal
    tail) and integrated over t in [0, pi] (`_adaptive_gl`, per row).
    """
    q_lo = np.asarray(q_lo, dtype=float)
    q_hi = np.asarray(q_hi, dtype=float)
    m = np.asarray(m, dtype=float)
    nrow = q_lo.size
    if nrow == 0:
        return np.zeros(0)
    p_top = (P_MAX + P_CUT) * T
    cands = [np.zeros(nrow), np.full(nrow, p_top)]
    cands += _triangle_roots(q_lo, omega, m_i, m_j)
    cands += _triangle_roots(q_hi, omega, m_i, m_j)
    if omega + m_j > m_i:
        cands.append(np.full(nrow, math.sqrt((omega + m_j) ** 2 - m_i * m_i)))
    cc = np.stack(cands, axis=1)
    cc = np.where((cc >= 0.0) & (cc <= p_top), cc, np.nan)
    cc = np.sort(cc, axis=1)
    good = np.isfinite(cc[:, 1:]) & (cc[:, 1:] > cc[:, :-1])
    rows, cols = np.nonzero(good)
    x = cc[rows, cols]
    y = cc[rows, cols + 1]

    def parts(p, r):
        e_out = np.hypot(m_i, p) - omega
        pp2 = (e_out - m_j) * (e_out + m_j)
        pp = np.sqrt(np.maximum(pp2, 0.0))
        lo_r, hi_r = np.abs(p - pp), p + pp
        ql, qh, mm = (np.broadcast_to(z[r], np.shape(p)) for z in (q_lo, q_hi, m))
        flat = mm == 0.0
        q1 = np.maximum(lo_r, ql)
        q2 = np.minimum(hi_r, qh)
        ok = (pp2 > 0.0) & np.where(flat, (lo_r <= ql) & (ql <= hi_r), q2 > q1)
        return e_out, pp, ql, qh, mm, flat, q1, q2, ok

    # drop the pieces on which nothing is reachable
    keep = parts(0.5 * (x + y), rows)[-1]
    rows, x, y = rows[keep], x[keep], y[keep]
    # the truncation of `spectrum_S`: nothing when the reachable set starts above P_MAX T,
    # else p up to its start p_a + P_CUT T (weights below exp(-60))
    p_a = np.full(nrow, np.inf)
    np.minimum.at(p_a, rows, x)
    p_end = p_a[rows] + P_CUT * T
    keep = (p_a[rows] <= P_MAX * T) & (x < p_end)
    rows, x, y, p_end = rows[keep], x[keep], y[keep], p_end[keep]
    tail = y >= np.minimum(p_end, p_top)
    y = np.minimum(y, p_end)
    dp = y - x

    # piece [x, x + d], s = sin^2(t/2): p = x + d s, except on the last piece of a row (up to
    # its end, no kink there) where p = x - 2T log(1 - s E), E = 1 - exp(-d/(2T)): then
    # f(p) dp/ds = 2T E (1 - s E) / (exp(x/T) + (1 - s E)^2) is smooth and falls only like
    # exp(-(p - x)/(2T)), which spreads the thermal tail over the t axis
    # (1 - s E = cos^2(t/2) + s exp(-d/(2T)), without cancellation)
    e_piece = -np.expm1(-0.5 * dp / T)
    em_piece = np.exp(-0.5 * dp / T)
    ex_piece = np.exp(x / T)

    def fvec(t, pid):
        r = rows[pid][:, None]
        sh, ch = np.sin(0.5 * t), np.cos(0.5 * t)
        s = sh * sh
        tl = tail[pid][:, None]
        one_m = ch * ch + s * em_piece[pid][:, None]
        x0, d = x[pid][:, None], dp[pid][:, None]
        p = np.where(tl, x0 - 2.0 * T * np.log(one_m), x0 + d * s)
        fdp = np.where(
            tl,
            2.0 * T * e_piece[pid][:, None] * one_m / (ex_piece[pid][:, None] + one_m * one_m),
            d / (np.exp(p / T) + 1.0),
        )
        e_out, pp, ql, qh, mm, flat, q1, q2, ok = parts(p, r)
        kern = np.zeros(p.shape)
        arc = ok & ~flat
        if arc.any():
            kern[arc] = _arc_kernel(q1[arc], q2[arc], ql[arc], qh[arc], mm[arc])
        sel = ok & flat
        if sel.any():
            kern[sel] = 0.5 * math.pi / ql[sel]
        return p * fdp * 0.5 * (e_out + pp) * kern * 0.5 * np.sin(t)

    zeros = np.zeros(rows.size)
    val = _adaptive_gl(fvec, zeros, zeros + math.pi, rows, nrow, epsrel, order=_P_ORDER)
    return 4.0 * val


def azimuthal_S(q_lo, q_hi, m, omega, m_i, m_j, T, epsrel=1e-10):
    """(1/pi) integral_0^pi d phi S(q(phi), omega) with q^2 = A - B cos(phi) over [q_lo^2, q_hi^2].

    m = (q_hi^2 - q_lo^2) / q_hi^2 (computed without cancellation by `_q_range`); m = 0
    gives S(q_lo). One row of `_azimuthal_S_vec`.
    """
    return float(_azimuthal_S_vec([q_lo], [q_hi], [m], omega, m_i, m_j, T, epsrel)[0])


def _q_range(k_perp, kz, gz, gp):
    """(q_lo, q_hi, m) of |k - G| over the azimuth, k = (k_perp, phi, kz), G_z = gz, |G_perp| = gp (arrays)."""
    dz = kz - gz
    q_lo = np.hypot(k_perp - gp, dz)
    q_hi = np.hypot(k_perp + gp, dz)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(q_hi > 0.0, 4.0 * gp * k_perp / (q_hi * q_hi), 0.0)
    return q_lo, q_hi, m


def _tilted_k_perp_integral(mode, omega, g, theta, m_i, m_j, T, epsrel, eps_s):
    """M(omega) = (1/4) integral dv sum_(+-k_z) |dk_z/d omega| a(|k|, omega) <S>_phi(|k - G|, omega).

    v = v_a + (v_b - v_a) sin^2(phi/2) over phi in [0, pi] as in `_k_perp_integral`, cut
    where q_lo or q_hi of either root crosses q_c + offsets, each piece by `_adaptive_gl`.
    """
    iv = mode.v_interval(omega)
    if iv is None:
        return 0.0
    va, vb = iv
    span = vb - va
    if not span > 0.0:
        return 0.0
    gz, gp = g * math.cos(theta), abs(g * math.sin(theta))
    if abs(gz) <= 1e-15 * abs(g):
        gz = 0.0  # theta = pi/2 up to rounding: the roots +-k_z see the same |k - G|
    same = g == 0.0 or gz == 0.0  # then <S> is the same for +k_z and -k_z
    q_c = _p_zero_momentum(omega, m_i, m_j)

    def geometry(phi):
        sh = math.sin(0.5 * phi)
        ch = math.cos(0.5 * phi)
        da, db = span * sh * sh, span * ch * ch
        v = va + da
        kz, jac = mode._kz_jac(omega, v, da, db)
        return v, kz, jac

    def curves(v, kz):
        kp = math.sqrt(v)
        dp, dm = kz - gz, -kz - gz
        return math.hypot(kp - gp, dp), math.hypot(kp + gp, dp), math.hypot(kp - gp, dm), math.hypot(kp + gp, dm)

    # break points where q_lo or q_hi (both roots +-k_z) crosses q_c + offsets, and where it
    # crosses the q at which S drops to zero by the truncation p <= P_MAX T (`spectrum_S`:
    # the reachable set of q from p_J = P_MAX T is [|p_J - p'_J|, p_J + p'_J])
    targets = [] if q_c is None else [q_c + off * T for off in _Q_OFFSETS]
    e_j = math.hypot(m_i, P_MAX * T) - omega
    if e_j > m_j:
        pp_j = math.sqrt((e_j - m_j) * (e_j + m_j))
        targets += [abs(P_MAX * T - pp_j), P_MAX * T + pp_j]
    points = []
    window = (P_MAX + 5.0) * T
    if q_c is not None:
        n = 128
        grid = np.linspace(0.0, math.pi, n + 1)
        qq = np.array([curves(*geometry(ph)[:2]) for ph in grid])
        near = np.any((qq[:, 0] - window < q_c) & (q_c < qq[:, 1] + window)) or np.any(
            (qq[:, 2] - window < q_c) & (q_c < qq[:, 3] + window)
        )
        crosses = np.any(np.diff(np.sign(qq - q_c), axis=0) != 0)
        if not near and not crosses:
            return 0.0
        for col in range(2 if same else 4):
            for target in targets:
                dq = qq[:, col] - target
                for j in np.nonzero(dq[:-1] * dq[1:] < 0.0)[0]:
                    fn = lambda ph: curves(*geometry(ph)[:2])[col] - target
                    points.append(optimize.brentq(fn, grid[j], grid[j + 1], xtol=1e-14, rtol=8.9e-16))
    cuts = [0.0] + sorted(p for p in set(points) if 1e-12 < p < math.pi - 1e-12) + [math.pi]

    def fvec(t, pid):
        shape = t.shape
        phi = t.ravel()
        geo = np.array([geometry(ph) for ph in phi])
        v, kz, jac = geo[:, 0], geo[:, 1], geo[:, 2]
        live = (jac > 0.0) & np.isfinite(jac)
        out = np.zeros(phi.size)
        if live.any():
            v, kz, jac, ph = v[live], kz[live], jac[live], phi[live]
            kp = np.sqrt(v)
            lp, lm = _q_range(kp, kz, gz, gp), _q_range(kp, -kz, gz, gp)
            nl = v.size
            ql, qh, mm = lp if same else (np.concatenate([x, y]) for x, y in zip(lp, lm))
            s = np.concatenate(
                [
                    _azimuthal_S_vec(ql[j : j + _ROW_CHUNK], qh[j : j + _ROW_CHUNK], mm[j : j + _ROW_CHUNK],
                                     omega, m_i, m_j, T, eps_s)
                    for j in range(0, ql.size, _ROW_CHUNK)
                ]
            )
            s2 = 2.0 * s if same else s[:nl] + s[nl:]
            a = (v + kz * kz) / omega
            out[live] = 0.25 * 0.5 * span * np.sin(ph) * jac * a * s2
        return out.reshape(shape)

    lo_c, hi_c = np.array(cuts[:-1]), np.array(cuts[1:])
    val = _adaptive_gl(fvec, lo_c, hi_c, np.zeros(lo_c.size, dtype=np.intp), 1, epsrel, order=_V_ORDER)
    return float(val[0])


def tilted_mode_rate(mode, *, m_i, m_j, T, e_vg, width, g, theta, epsrel=1e-8, omega_points=()):
    """R_mode for one grating term G = g (sin theta, 0, cos theta), theta from the optic axis z.

    (1/Z) integral d^3k/(4 pi) a(|k|, omega) L(E_vg - omega(k)) S(|k - G|, omega(k)) over all k
    (both signs of k_z, the whole azimuth), normalised as `mode_rate`: a = |k|^2/omega,
    L(x) = 1/(x^2 + width^2/4), S(q, omega) = 2 pi integral dp p f(p) kE / q,
    Z = 4 pi (3/2) zeta(3) T^3; theta = 0 is mode_rate(..., g=g), and -G is g -> -g
    (or theta -> theta + pi). d^3k/(4 pi) = (1/4) d omega dv (d phi / 2 pi) |dk_z/d omega|,
    the azimuth phi of k_perp averaged exactly (`azimuthal_S`). Any mode of this module
    works; a mode with a k_max cut must have k_max >= k_perp_bound(m_i, m_j, T, g).
    """
    k_max = getattr(mode, "k_max", None)
    if k_max is not None and k_max < k_perp_bound(m_i, m_j, T, g) * (1.0 - 1e-12):
        raise ValueError(f"mode.k_max = {k_max} is below k_perp_bound = {k_perp_bound(m_i, m_j, T, g)}")
    lo, hi = _omega_range(m_i, m_j, T)
    eps_mid = max(epsrel * 0.1, 1e-13)
    eps_s = max(epsrel * 0.01, 1e-13)
    # The omega axis is cut at the mode's own breaks (band edges, poles and zeros of eps) only:
    # where the extremes of |k - G| over the surface cross q_c, M(omega) has no more than a
    # kink in a higher derivative (S itself is C^1 in q at q_c: its one-sided slopes there
    # differ by O(h)), which the adaptive quadrature resolves. (Cutting also where q_lo, q_hi
    # at the ends of the v interval cross q_c, the tilted analogue of `_axis_roots`, cost 50%
    # more omega evaluations for Index(1.5), theta = 0.7, and moved the rate by 5e-12.)
    breaks = list(mode.omega_breaks(lo, hi)) + list(omega_points)
    func = lambda w: _tilted_k_perp_integral(mode, w, g, theta, m_i, m_j, T, eps_mid, eps_s)
    return _lorentz_outer(func, e_vg, width, lo, hi, breaks, epsrel) / fermi_dirac_Z(T)


def tilted_grating_rate(mode, *, m_i, m_j, T, e_vg, width, g, theta, h, epsrel=1e-8):
    """R_0 + (h^2/4) (R_(+G) + R_(-G)), G = g (sin theta, 0, cos theta), each term on its own (-G: g -> -g)."""
    kw = dict(m_i=m_i, m_j=m_j, T=T, e_vg=e_vg, width=width, theta=theta, epsrel=epsrel)
    r0 = tilted_mode_rate(mode, g=0.0, **kw)
    rp = tilted_mode_rate(mode, g=g, **kw)
    rm = tilted_mode_rate(mode, g=-g, **kw)
    return r0 + 0.25 * h * h * (rp + rm)


# --------------------------------------------------------------------------
# cases checked with the additions above, for comparison with the package
#
# Neutrinos: m_i = 0.0501, m_j = 0.0086 eV, Fermi-Dirac T = 1.676e-4 eV, width = 3e-8 eV.
# Permittivities as (eps_inf, ((delta_eps, omega_T), ...)) or a number; EPS_POLE below has
# omega_T = 0.0175 eV and omega_L = 0.0175 sqrt(2.5/2.25) = 0.018447 eV, eps < 0 between:
# at E_vg = 0.018 eV (eps = -2.06) the hyperbolic bands hold kinematic photons
# (|k| = q_c(0.018) = 0.0309 eV on the surface; E_vg sits inside the band, not at an edge).
# "value" is the rate of `function` (mode_rate or tilted_mode_rate: one grating term,
# (1/Z) integral d^3k/(4 pi) a L S with a = |k|^2/omega, L = 1/(x^2 + width^2/4),
# Z = 4 pi (3/2) zeta(3) T^3), computed at "epsrel". k_max is k_perp_bound(m_i, m_j, T, g).
# A grating's total is R_0 + (h^2/4)(R_(+G) + R_(-G)) with R_(-G) = R_(+G) for these
# centrosymmetric modes and isotropic neutrinos.

_EPS_POLE_SPEC = (2.25, ((0.25, 0.0175),))
_NU = dict(m_i=0.0501, m_j=0.0086, T=1.676e-4, width=3e-8)
_K0 = k_perp_bound(0.0501, 0.0086, 1.676e-4, 0.0)
_K15 = k_perp_bound(0.0501, 0.0086, 1.676e-4, 0.015)

EXTRA_CASES = {
    # eps_perp = eps_par = EPS_POLE: the isotropic Lorentz medium; E_vg on the upper branch's
    # p = 0 root omega sqrt(eps(omega)) = q_c(omega) (the ordinary wave and the
    # extraordinary wave with eps_perp = eps_par give this value; so does isotropic_lorentz_rate_1d)
    "iso_lorentz_upper": dict(
        function="mode_rate", mode="DispersiveOrdinary", eps_perp=_EPS_POLE_SPEC, k_max=None,
        e_vg=0.02115215185286764, g=0.0, theta=0.0, epsrel=1e-8, value=21109790.940767832, **_NU,
    ),
    # the same on the lower branch (below omega_T, slow light: dk/d omega large)
    "iso_lorentz_lower": dict(
        function="mode_rate", mode="DispersiveOrdinary", eps_perp=_EPS_POLE_SPEC, k_max=None,
        e_vg=0.016247354832124417, g=0.0, theta=0.0, epsrel=1e-8, value=156320794.86927262, **_NU,
    ),
    # eps_perp = 2.25 > 0 > eps_par(E_vg): extraordinary hyperbola k_z^2 = eps_perp (omega^2 + k_perp^2/|eps_par|)
    "hyperbola_perp": dict(
        function="mode_rate", mode="DispersiveExtraordinary", eps_perp=2.25, eps_par=_EPS_POLE_SPEC,
        k_max=_K0, e_vg=0.018, g=0.0, theta=0.0, epsrel=1e-8, value=1687620.1364624996, **_NU,
    ),
    # eps_par = 2.25 > 0 > eps_perp(E_vg): hyperbola k_z^2 = |eps_perp| (k_perp^2/eps_par - omega^2), band edge k_z = 0
    "hyperbola_par": dict(
        function="mode_rate", mode="DispersiveExtraordinary", eps_perp=_EPS_POLE_SPEC, eps_par=2.25,
        k_max=_K0, e_vg=0.018, g=0.0, theta=0.0, epsrel=1e-8, value=4702809.265049469, **_NU,
    ),
    # the hyperbolas with a grating term along the axis and tilted from it
    "hyperbola_perp_grating_z": dict(
        function="mode_rate", mode="DispersiveExtraordinary", eps_perp=2.25, eps_par=_EPS_POLE_SPEC,
        k_max=_K15, e_vg=0.018, g=0.015, theta=0.0, epsrel=1e-8, value=6980658.935962397, **_NU,
    ),
    "hyperbola_perp_tilted": dict(
        function="tilted_mode_rate", mode="DispersiveExtraordinary", eps_perp=2.25, eps_par=_EPS_POLE_SPEC,
        k_max=_K15, e_vg=0.018, g=0.015, theta=0.7, epsrel=1e-7, value=5358514.140039287, **_NU,
    ),
    "hyperbola_par_tilted": dict(
        function="tilted_mode_rate", mode="DispersiveExtraordinary", eps_perp=_EPS_POLE_SPEC, eps_par=2.25,
        k_max=_K15, e_vg=0.018, g=0.015, theta=0.7, epsrel=1e-7, value=6756193.148829252, **_NU,
    ),
    # an index at its resonance with g = k0/2: the tilt changes nothing (theta = 0 is mode_rate's 413657.94...)
    "index_tilted": dict(
        function="tilted_mode_rate", mode="Index", n=1.5,
        e_vg=0.01954588699549886, g=0.75 * 0.01954588699549886, theta=0.7, epsrel=1e-7, value=413657.94453742297, **_NU,
    ),
    # constant birefringence, the same grating along the axis and tilted
    "extraordinary_grating_z": dict(
        function="mode_rate", mode="Extraordinary", eps_perp=2.25, eps_par=2.6,
        e_vg=0.01954588699549886, g=0.75 * 0.01954588699549886, theta=0.0, epsrel=1e-8, value=483920.06081171625, **_NU,
    ),
    "extraordinary_tilted": dict(
        function="tilted_mode_rate", mode="Extraordinary", eps_perp=2.25, eps_par=2.6,
        e_vg=0.01954588699549886, g=0.75 * 0.01954588699549886, theta=0.7, epsrel=1e-7, value=502238.8798875875, **_NU,
    ),
}


def _eps_of(spec):
    if isinstance(spec, (int, float)):
        return LorentzEps(float(spec))
    eps_inf, poles = spec
    return LorentzEps(eps_inf, poles)


def case_mode(case):
    """The photon mode of an EXTRA_CASES entry."""
    kind = case["mode"]
    if kind == "Index":
        return Index(case["n"])
    if kind == "Extraordinary":
        return Extraordinary(case["eps_perp"], case["eps_par"])
    if kind == "Ordinary":
        return Ordinary(case["eps_perp"])
    k_max = case.get("k_max")
    if kind == "DispersiveOrdinary":
        return DispersiveOrdinary(_eps_of(case["eps_perp"]), k_max=k_max)
    if kind == "DispersiveExtraordinary":
        return DispersiveExtraordinary(_eps_of(case["eps_perp"]), _eps_of(case["eps_par"]), k_max=k_max)
    raise ValueError(f"unknown mode {kind!r}")


def case_rate(case, epsrel=None):
    """Recompute an EXTRA_CASES entry (at its own epsrel unless given)."""
    kw = dict(m_i=case["m_i"], m_j=case["m_j"], T=case["T"], e_vg=case["e_vg"], width=case["width"])
    kw["epsrel"] = case["epsrel"] if epsrel is None else epsrel
    mode = case_mode(case)
    if case["function"] == "mode_rate":
        if case["theta"] != 0.0:
            raise ValueError("mode_rate has G along the axis")
        return mode_rate(mode, g=case["g"], **kw)
    return tilted_mode_rate(mode, g=case["g"], theta=case["theta"], **kw)

