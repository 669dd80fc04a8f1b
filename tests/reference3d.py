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
"""

import math

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
