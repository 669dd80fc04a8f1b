"""Slow, independent adaptive reference for the momentum-averaged rate <Gamma> (tests only).

Shares no numerical code with `rates/` or `dispersion/`: it reads the model's
parameter fields (floats and arrays) and the two constants G_F and e from
`rates.constants`, and re-implements every dispersion, the kinematics and the
integrals in plain Python / NumPy / SciPy (`quad`, `brentq`).

Formula (isotropic medium and distribution, exact D_k)
--------------------------------------------------------------------------------
Per neutrino, Gamma(p) = integral d^3k/(4 pi) a(k) kappa L delta(E_i - omega(k) - E'_j),
with d^3k/(4 pi) = k^2 dk dc / 2 and a = A / k^2. The delta function in the
angle c = cos(p, k) gives |dE'_j/dc|^-1 = E'_j / (p k), so

    Gamma(p) = (1/2) integral dk  A kappa L E'_j / (p k)  [|c| <= 1, E'_j >= m_j]

(the same as Sec. 6's (1/2) integral dc sum_roots A D_k kappa L with D_k = 1/|dF/dk|:
integral dc sum_roots phi(k*)/|dF/dk| = integral dk integral dc phi delta(F)).
On a branch parametrised by omega, dk = |d Re k / d omega| d omega (this also
counts the modes of a branch whose Re k(omega) is not monotone). Averaging with
the |p| weight p^2 f(p) and swapping the order:

    <Gamma> = (1/Z) sum_branches integral d omega  L(E_vg - omega) S(omega),
    S(omega) = (1/2) A(omega, k) |dk/d omega| / k * integral_allowed dp p f(p) kappa E'_j,

kappa E'_j = (E'_j + |p'_j|)/2, E'_j = E_i(p) - omega. The allowed momenta at
fixed (omega, k): cos = (k^2 - omega^2 - (m_i^2 - m_j^2) + 2 omega E_i) / (2 p k)
in [-1, 1] and E'_j >= m_j. Its boundaries solve (squaring 2 omega E_i = +-2pk - Q)

    s p^2 -+ k Q p - (omega^2 m_i^2 - Q^2/4) = 0,  s = k^2 - omega^2,  Q = s - (m_i^2 - m_j^2),

with discriminant omega^2 (Q^2 + 4 s m_i^2); the candidates (plus p = 0, p_cut and
E_i = omega + m_j) cut [0, p_cut] into pieces whose midpoints are tested directly.
Monochromatic |p| = p0: Gamma = (1/2) integral d omega L A |dk/d omega| / k * kappa E'_j / p0
over the omega where p0 is allowed (no Z). Rest: sum over the p = 0 roots of
A kappa L / |v_g + k/E'_j|.

Numerics: the omega integral is split into support pieces (found by dense
sampling, geometric clusters at the branch edges, the p = 0 roots and E_vg, and
bisection on the boundary); each piece is cut at the p = 0 roots, at E_vg and
E_vg +- 30 Gamma_v, at the omega where the lower edge of the allowed momenta
equals (0.5, 1, 2, ... 32) T (or sigma), at kinks of the branch (spline knots,
zeros of dRe k/d omega); panels touching a piece boundary are integrated in
t with omega = edge +- t^2 (band edges, where dk/d omega ~ 1/sqrt, and pinch
points, where S ~ sqrt), the others in u = arcsinh((omega - E_vg)/(Gamma_v/2)).
"""

import math
import warnings

import numpy as np
from scipy import integrate, optimize
from scipy.special import zeta

from cnbfluor.rates.constants import ELEMENTARY_CHARGE, FERMI_CONSTANT

_ZETA3 = float(zeta(3.0))
_TINY_GAP = 1e-15  # Bragg: an extremum of |f| above 1 by less than this is a closed gap


def _f(x):
    return float(np.asarray(x, dtype=float))


# ---------------------------------------------------------------------------
# Dispersions: branches in the photon energy.
# ---------------------------------------------------------------------------


class _Branch:
    """Re k(omega) and d Re k / d omega (signed) on [lo, hi]; `breaks`: kinks inside."""

    def __init__(self, lo, hi, k, dk, breaks=(), name=""):
        self.lo, self.hi = float(lo), float(hi)
        self.k, self.dk = k, dk
        self.breaks = [float(b) for b in breaks if lo < b < hi]
        self.name = name


def _linear_branch(a, b, k_min, k_max, name):
    """omega = a + b k on [k_min, k_max]."""
    lo, hi = a + b * k_min, a + b * k_max
    return _Branch(lo, hi, lambda w: (w - a) / b, lambda w: 1.0 / b, name=name)


def _tight_binding(d):
    w0, J, lam = _f(d.omega0), _f(d.coupling), _f(d.period)
    k_min, k_max = _f(d.k_min), _f(d.k_max)
    bot, top = w0 - 2 * J, w0 + 2 * J

    def halves(w):
        one_minus = max((w - bot) / (2 * J), 0.0)  # 1 - cos(k Lambda)
        one_plus = max((top - w) / (2 * J), 0.0)  # 1 + cos(k Lambda)
        return one_minus, one_plus

    def k(w):
        one_minus, one_plus = halves(w)
        return 2.0 * math.atan2(math.sqrt(one_minus), math.sqrt(one_plus)) / lam

    def dk(w):
        one_minus, one_plus = halves(w)
        sin = math.sqrt(one_minus * one_plus)
        return math.inf if sin == 0 else 1.0 / (2 * J * lam * sin)

    lo = max(bot, w0 - 2 * J * math.cos(k_min * lam))
    hi = min(top, w0 - 2 * J * math.cos(k_max * lam))
    return [_Branch(lo, hi, k, dk, name="tight-binding")]


def _spline(d):
    knots = np.asarray(d.knots, dtype=float)
    vel = np.asarray(d.velocities, dtype=float)
    h = np.diff(knots)
    w_knots = _f(d.omega_start) + np.concatenate([[0.0], np.cumsum(0.5 * (vel[:-1] + vel[1:]) * h)])
    slopes = np.diff(vel) / h
    kn, wk, vv, sl = [list(map(float, x)) for x in (knots, w_knots, vel, slopes)]
    n = len(kn)

    def seg(w):
        i = int(np.searchsorted(w_knots, w, side="right")) - 1
        i = min(max(i, 0), n - 2)
        dd = w - wk[i]
        t = 2.0 * dd / (vv[i] + math.sqrt(max(vv[i] ** 2 + 2.0 * sl[i] * dd, 0.0)))
        return i, t

    def k(w):
        i, t = seg(w)
        return kn[i] + t

    def dk(w):
        i, t = seg(w)
        return 1.0 / (vv[i] + sl[i] * t)

    return [_Branch(wk[0], wk[-1], k, dk, breaks=wk[1:-1], name="spline")]


def _eit(d):
    probe, kap, rabi = _f(d.probe), _f(d.coupling), _f(d.rabi)
    g31, g21, hw = _f(d.excited_decay), _f(d.ground_dephasing), _f(d.half_width)

    def chi_and_slope(w):
        delta = w - probe
        a21, a31 = complex(g21, -delta), complex(g31, -delta)
        num = 1j * a21
        den = a31 * a21 + 0.25 * rabi**2
        chi = kap * num / den
        dchi = kap * (1.0 * den - num * (-1j * a21 - 1j * a31)) / den**2
        return chi, dchi

    def k(w):
        chi, _ = chi_and_slope(w)
        return (w * np.sqrt(1.0 + chi)).real

    def dk(w):
        chi, dchi = chi_and_slope(w)
        root = np.sqrt(1.0 + chi)
        return (root + w * dchi / (2.0 * root)).real

    lo, hi = probe - hw, probe + hw
    # Kinks of |dk/d omega|: zeros of d Re k / d omega.
    grid = np.linspace(lo, hi, 20001)
    vals = np.array([dk(w) for w in grid])
    breaks = []
    for i in np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]:
        breaks.append(optimize.brentq(dk, grid[i], grid[i + 1], xtol=1e-24, rtol=1e-15))
    return [_Branch(lo, hi, k, dk, breaks=breaks, name="eit")]


class _BraggStack:
    """cos(K L) = f(omega), written so that 1 - f and 1 + f keep their relative precision."""

    def __init__(self, d):
        self.n1, self.n2, self.d1, self.d2 = _f(d.n1), _f(d.n2), _f(d.d1), _f(d.d2)
        self.n_bands = int(d.n_bands)
        self.L = self.d1 + self.d2
        self.o1, self.o2 = self.n1 * self.d1, self.n2 * self.d2
        self.OL = self.o1 + self.o2
        self.eps = (self.n1 - self.n2) ** 2 / (2.0 * self.n1 * self.n2)

    def parts(self, w):
        a, b = self.o1 * w, self.o2 * w
        sa, sb = math.sin(a), math.sin(b)
        half = 0.5 * (a + b)
        one_minus = 2.0 * math.sin(half) ** 2 + self.eps * sa * sb  # 1 - f
        one_plus = 2.0 * math.cos(half) ** 2 - self.eps * sa * sb  # 1 + f
        return one_minus, one_plus

    def f(self, w):
        a, b = self.o1 * w, self.o2 * w
        return math.cos(a + b) - self.eps * math.sin(a) * math.sin(b)

    def fprime(self, w):
        a, b = self.o1 * w, self.o2 * w
        return -self.OL * math.sin(a + b) - self.eps * (
            self.o1 * math.cos(a) * math.sin(b) + self.o2 * math.sin(a) * math.cos(b))

    def margin(self, w, sign):
        """|f| - 1 measured toward f = sign (> 0 inside that gap)."""
        one_minus, one_plus = self.parts(w)
        return -one_minus if sign > 0 else -one_plus

    def edges(self):
        """Pass bands 0 .. n_bands - 1 as (lo, hi): f reaches +-1 at every band edge.

        Every extremum of f (omega > 0) is a gap: open if |f| exceeds 1 there (edges
        by brentq on |f| - 1 on both sides), closed if it only touches (both edges at
        the extremum).
        """
        unit = math.pi / self.OL
        n_grid = 400
        top = (self.n_bands + 3) * unit
        while True:
            grid = np.linspace(0.0, top, int(n_grid * top / unit) + 1)
            fp = np.array([self.fprime(w) for w in grid])
            extrema = []
            for i in range(1, len(grid) - 1):
                if fp[i] == 0.0:
                    extrema.append(float(grid[i]))
                elif fp[i] * fp[i + 1] < 0:
                    extrema.append(optimize.brentq(self.fprime, grid[i], grid[i + 1], xtol=1e-24, rtol=1e-15))
            gaps = []
            for w in extrema:
                sign = 1.0 if self.f(w) > 0 else -1.0
                if self.margin(w, sign) >= -1e-12:
                    gaps.append((w, sign))
            if len(gaps) >= self.n_bands + 1:
                break
            top *= 2
        bands, start = [], 0.0
        for m in range(self.n_bands):
            w, sign = gaps[m]
            if self.margin(w, sign) > _TINY_GAP:
                left = extrema[extrema.index(w) - 1] if extrema.index(w) > 0 else start
                right = gaps[m + 1][0]
                g = lambda x, s=sign: self.margin(x, s)
                lower = optimize.brentq(g, max(left, start), w, xtol=1e-24, rtol=1e-15)
                upper = optimize.brentq(g, w, right, xtol=1e-24, rtol=1e-15)
                # Stay on the pass-band side of each edge.
                while g(lower) > 0:
                    lower = np.nextafter(lower, -np.inf)
                while g(upper) > 0:
                    upper = np.nextafter(upper, np.inf)
            else:
                lower = upper = w
            bands.append((start, float(lower)))
            start = float(upper)
        return bands

    def branch(self, m, lo, hi):
        L = self.L

        def theta_sin(w):
            one_minus, one_plus = self.parts(w)
            one_minus, one_plus = max(one_minus, 0.0), max(one_plus, 0.0)
            return 2.0 * math.atan2(math.sqrt(one_minus), math.sqrt(one_plus)), math.sqrt(one_minus * one_plus)

        def k(w):
            theta, _ = theta_sin(w)
            return (m * math.pi + theta) / L if m % 2 == 0 else ((m + 1) * math.pi - theta) / L

        def dk(w):
            _, sin = theta_sin(w)
            return math.inf if sin == 0 else abs(self.fprime(w)) / (L * sin)

        return _Branch(lo, hi, k, dk, name=f"bragg band {m}")


def _bragg(d):
    stack = _BraggStack(d)
    return [stack.branch(m, lo, hi) for m, (lo, hi) in enumerate(stack.edges())]


def _lorentz(d):
    eps_inf = _f(d.eps_inf)
    poles = [(float(a), float(b)) for a, b in zip(np.atleast_1d(np.asarray(d.delta_eps, dtype=float)),
                                                   np.atleast_1d(np.asarray(d.omega_T, dtype=float)))]
    w_max = _f(d.omega_max)

    def eps(w):
        return eps_inf + sum(de * wt * wt / ((wt - w) * (wt + w)) for de, wt in poles)

    def deps(w):
        return sum(de * wt * wt * 2.0 * w / ((wt - w) * (wt + w)) ** 2 for de, wt in poles)

    def k(w):
        return w * math.sqrt(max(eps(w), 0.0))

    def dk(w):
        e = eps(w)
        if e <= 0:
            return math.inf
        r = math.sqrt(e)
        return r + w * deps(w) / (2.0 * r)

    gammas = [float(g) for g in np.atleast_1d(np.asarray(d.gamma, dtype=float))]
    if any(g > 0 for g in gammas):
        # A lossy medium: Re k of the complex k = omega sqrt(eps(omega)), on the
        # windows of the lossless medium (the package's documented convention,
        # including the top of a branch below a pole: where the lossless k
        # reaches 10 omega_max, within [1e-13, 1e-7] of omega_T, relative).
        lossy = [(de, wt, g) for (de, wt), g in zip(poles, gammas)]

        def eps_c(w):
            return eps_inf + sum(de * wt * wt / (wt * wt - w * w - 1j * g * w) for de, wt, g in lossy)

        def deps_c(w):
            return sum(de * wt * wt * (2.0 * w + 1j * g) / (wt * wt - w * w - 1j * g * w) ** 2 for de, wt, g in lossy)

        def k(w):  # noqa: F811
            return (w * np.sqrt(complex(eps_c(w)))).real

        def dk(w):  # noqa: F811
            r = np.sqrt(complex(eps_c(w)))
            return (r + w * deps_c(w) / (2.0 * r)).real

    w_t = [wt for _, wt in poles]

    def below_pole(j):
        de, wt = poles[j]
        gap = de * wt**3 / (2.0 * (10.0 * w_max) ** 2)
        return wt - min(max(gap, 1e-13 * wt), 1e-7 * wt)

    top0 = below_pole(0) if any(g > 0 for g in gammas) else w_t[0] * (1 - 1e-15)
    out = [_Branch(1e-6 * w_t[0], top0, k, dk, name="lorentz 0")]
    for j, wt in enumerate(w_t):
        upper = w_t[j + 1] if j + 1 < len(w_t) else None
        hi_search = upper * (1 - 1e-15) if upper is not None else None
        if hi_search is None:
            hi_search = 2.0 * wt
            while eps(hi_search) < 0:
                hi_search *= 2.0
        w_l = optimize.brentq(eps, wt * (1 + 1e-15), hi_search, xtol=1e-24, rtol=1e-15)
        while eps(w_l) < 0:
            w_l = float(np.nextafter(w_l, np.inf))
        top = upper * (1 - 1e-15) if upper is not None else w_max
        if any(g > 0 for g in gammas) and upper is not None:
            top = below_pole(j + 1)
        if top > w_l:
            out.append(_Branch(w_l, top, k, dk, name=f"lorentz {j + 1}"))
    return out


def branches_of(dispersion):
    """The branches (`_Branch`) of a dispersion model, from its parameter fields."""
    name = type(dispersion).__name__
    if name == "Vacuum":
        return [_linear_branch(0.0, 1.0, _f(dispersion.k_min), _f(dispersion.k_max), "vacuum")]
    if name == "ConstantIndex":
        n = _f(dispersion.n)
        return [_linear_branch(0.0, 1.0 / n, _f(dispersion.k_min), _f(dispersion.k_max), "index")]
    if name == "LinearBand":
        v, wc, kc = _f(dispersion.velocity), _f(dispersion.omega_c), _f(dispersion.k_c)
        return [_linear_branch(wc - v * kc, v, _f(dispersion.k_min), _f(dispersion.k_max), "linear-band")]
    if name == "TightBinding":
        return _tight_binding(dispersion)
    if name == "SplineBand":
        return _spline(dispersion)
    if name == "EIT":
        return _eit(dispersion)
    if name == "Bragg":
        return _bragg(dispersion)
    if name == "Lorentz":
        return _lorentz(dispersion)
    raise TypeError(f"independent reference: no model for dispersion {name}")


# ---------------------------------------------------------------------------
# Distributions, kinematics.
# ---------------------------------------------------------------------------


class _Dist:
    def __init__(self, momentum):
        name = type(momentum).__name__
        self.kind = name
        self.p0 = None
        if name == "FermiDirac":
            t = _f(momentum.temperature)
            self.scale, self.pcut, self.norm = t, 60.0 * t, 1.5 * _ZETA3 * t**3
            self.levels = [t * x for x in (0.5, 1, 2, 4, 8, 16, 32)]
            self.weight = lambda p: p * math.exp(-p / t) / (1.0 + math.exp(-p / t))  # p f(p)
        elif name == "Maxwellian":
            s = _f(momentum.sigma)
            self.scale, self.pcut, self.norm = s, 12.0 * s, math.sqrt(math.pi / 2) * s**3
            self.levels = [s * x for x in (0.25, 0.5, 1, 2, 4, 8)]
            self.weight = lambda p: p * math.exp(-0.5 * (p / s) ** 2)
        elif name == "Monochromatic":
            self.p0 = _f(momentum.momentum)
            self.scale, self.pcut, self.norm, self.levels = self.p0, 2.0 * self.p0, 1.0, []
        elif name == "Rest":
            self.scale = self.pcut = 0.0
            self.norm, self.levels = 1.0, []
        else:
            raise TypeError(f"independent reference: no distribution {name}")


class _Kinematics:
    def __init__(self, m_i, m_j):
        self.mi, self.mj = m_i, m_j
        self.dm2 = (m_i - m_j) * (m_i + m_j)

    def feasible(self, p, w, k, Q):
        e = math.sqrt(self.mi * self.mi + p * p)
        if e - w < self.mj:
            return False
        c = (Q + 2.0 * w * e) / (2.0 * p * k)
        return -1.0 <= c <= 1.0

    def allowed(self, w, k, pcut):
        """Allowed |p| at photon (omega, k), within [0, pcut]: a list of (lo, hi)."""
        w, k = float(w), float(k)
        if not (k > 0 and w > 0 and pcut > 0):
            return []
        mi, mj = self.mi, self.mj
        s = (k - w) * (k + w)
        Q = s - self.dm2
        C = (w * mi - 0.5 * Q) * (w * mi + 0.5 * Q)
        cands = [0.0, pcut]
        disc = Q * Q + 4.0 * s * mi * mi
        if disc >= 0:
            R = w * math.sqrt(disc)
            for sigma in (1.0, -1.0):
                b = sigma * k * Q
                q = b + math.copysign(R, b)
                if q != 0:
                    cands.append(-2.0 * C / q)
                    if s != 0:
                        cands.append(q / (2.0 * s))
        if w + mj > mi:
            cands.append(math.sqrt((w + mj - mi) * (w + mj + mi)))
        cands = sorted(set(x for x in cands if 0.0 <= x <= pcut))
        out = []
        for a, b in zip(cands[:-1], cands[1:]):
            if b <= a:
                continue
            if self.feasible(0.5 * (a + b), w, k, Q):
                if out and out[-1][1] == a:
                    out[-1] = (out[-1][0], b)
                else:
                    out.append((a, b))
        return out

    def kappa_energy(self, p, w):
        """kappa E'_j = (E'_j + |p'_j|)/2 at E'_j = E_i(p) - omega."""
        e = math.sqrt(self.mi * self.mi + p * p) - w
        return 0.5 * (e + math.sqrt(max((e - self.mj) * (e + self.mj), 0.0)))


# ---------------------------------------------------------------------------
# The rate.
# ---------------------------------------------------------------------------


def _brentq(f, a, b):
    return optimize.brentq(f, a, b, xtol=1e-30, rtol=4 * np.finfo(float).eps, maxiter=500)


def _bisect_bool(pred, a, b):
    """pred(a) != pred(b); returns the end of the last bisection bracket where pred is True."""
    pa = pred(a)
    for _ in range(2000):
        m = 0.5 * (a + b)
        if m <= min(a, b) or m >= max(a, b):
            break
        if pred(m) == pa:
            a = m
        else:
            b = m
    return a if pa else b


def _cluster(center, lo, hi, n=160):
    """Geometric points on both sides of `center` inside [lo, hi]."""
    out = []
    floor = 4.0 * np.spacing(max(abs(center), 1e-300))
    for side, room in ((-1.0, center - lo), (1.0, hi - center)):
        if room > floor:
            out.append(center + side * np.geomspace(floor, room, n))
    return np.concatenate(out) if out else np.zeros(0)


class IndependentRate:
    """The reference, built once per model (see `independent_rate`)."""

    def __init__(self, model, epsrel=1e-9, fast=False):
        if model.dk != "exact" and type(model.momentum).__name__ != "Rest":
            raise NotImplementedError("independent reference: only dk = 'exact' (except for rest)")
        nu = model.neutrinos
        self.kin = _Kinematics(_f(nu.m_initial), _f(nu.m_final))
        self.c2 = _f(nu.mixing_squared())
        self.dist = _Dist(model.momentum)
        self.branches = branches_of(model.dispersion)
        self.paper = model.dk == "paper"
        self.epsrel = epsrel
        self.n_uniform = 800 if fast else 3000
        self.n_cluster = 80 if fast else 200
        med = model.medium
        self.channel = med.channel
        base = FERMI_CONSTANT**2 * self.c2 / (2 * math.pi) * _f(med.density) ** 2
        f, d, eps = _f(med.form_factor), _f(med.dipole), _f(med.mixing)
        if self.channel == "M1":
            self.prefactor = base * f**2 * d**2
        elif self.channel == "E1":
            self.prefactor = base / ELEMENTARY_CHARGE**2 * f * d**4
        elif self.channel == "E1M1":
            self.prefactor = base * f**2 * (eps * d) ** 2
        else:
            raise ValueError(self.channel)
        self.gamma = 0.5 * _f(med.width)
        self.rest_roots = [self._rest_roots(b) for b in self.branches]
        if med.resonant:
            lowest = [r for roots in self.rest_roots for r in roots]
            if not lowest:
                raise ValueError("independent reference: no p = 0 photon root on any branch")
            self.energy = min(lowest) + _f(med.detuning)
        else:
            self.energy = _f(med.level_spacing)
        self.warnings = []

    # -- pieces ------------------------------------------------------------

    def strength(self, w, k):
        if self.channel == "M1":
            return self.prefactor * k**4 / w
        if self.channel == "E1":
            return self.prefactor * w * k**4
        return self.prefactor * w * k**2

    def lorentzian(self, w):
        x = self.energy - w
        return 1.0 / (x * x + self.gamma * self.gamma)

    def _base_grid(self, br, extra=()):
        lo, hi = br.lo, br.hi
        pts = [np.linspace(lo, hi, self.n_uniform), _cluster(lo, lo, hi, self.n_cluster),
               _cluster(hi, lo, hi, self.n_cluster)]
        for c in list(br.breaks) + list(extra):
            if lo <= c <= hi:
                pts.append(_cluster(c, lo, hi, self.n_cluster))
                pts.append([c])
        grid = np.unique(np.concatenate(pts))
        return [float(x) for x in grid[(grid >= lo) & (grid <= hi)]]

    def _rest_roots(self, br):
        kin = self.kin
        g = lambda w: w + math.sqrt(kin.mj**2 + br.k(w) ** 2) - kin.mi
        grid = self._base_grid(br)
        vals = np.array([g(w) for w in grid])
        roots = []
        for i in range(len(grid) - 1):
            if vals[i] == 0.0:
                roots.append(float(grid[i]))
            elif vals[i] * vals[i + 1] < 0:
                roots.append(_brentq(g, grid[i], grid[i + 1]))
        if vals[-1] == 0.0:
            roots.append(float(grid[-1]))
        return roots

    def _intervals(self, br, w):
        return self.kin.allowed(w, br.k(w), self.dist.pcut)

    def _feasible(self, br, w):
        ivs = self._intervals(br, w)
        if self.dist.p0 is not None:
            return any(a <= self.dist.p0 <= b for a, b in ivs)
        return bool(ivs)

    def _p_low(self, br, w):
        ivs = self._intervals(br, w)
        return ivs[0][0] if ivs else math.inf

    def supports(self, index):
        """Support pieces [(lo, hi), ...] of S(omega) on branch `index`, and the interior break points."""
        br = self.branches[index]
        grid = self._base_grid(br, extra=list(self.rest_roots[index]) + [self.energy])
        feas = [self._feasible(br, w) for w in grid]
        pred = lambda w: self._feasible(br, w)
        pieces, start = [], None
        for i, ok in enumerate(feas):
            if ok and start is None:
                start = grid[i] if i == 0 else _bisect_bool(pred, grid[i], grid[i - 1])
            if not ok and start is not None:
                pieces.append((float(start), float(_bisect_bool(pred, grid[i - 1], grid[i]))))
                start = None
        if start is not None:
            pieces.append((float(start), float(grid[-1])))
        # Break points: where the lower edge of the allowed momenta crosses the levels.
        points = set(self.rest_roots[index]) | set(br.breaks)
        if self.dist.levels:
            plow = np.array([self._p_low(br, w) if ok else math.inf for w, ok in zip(grid, feas)])
            for level in self.dist.levels:
                d = plow - level
                for i in range(len(grid) - 1):
                    if feas[i] and feas[i + 1] and d[i] * d[i + 1] < 0:
                        fn = lambda w, lev=level: self._p_low(br, w) - lev
                        try:
                            points.add(_brentq(fn, grid[i], grid[i + 1]))
                        except ValueError:
                            pass
        for c in (self.energy, self.energy - 30 * self.gamma, self.energy + 30 * self.gamma):
            points.add(c)
        return pieces, sorted(points)

    # -- integrands --------------------------------------------------------

    def _k(self, br, w, dw):
        """Re k at omega = w + dw (dw: a sub-ulp correction; first order in dw)."""
        k = br.k(w)
        if dw != 0.0:
            slope = br.dk(w)
            if math.isfinite(slope):
                k += slope * dw
        return k

    def spectrum(self, br, w, dw=0.0):
        """S(omega) at omega = w + dw (without the 1/Z): eV^4 for a distribution, eV for monochromatic.

        With slow light, k(omega) amplifies the rounding of omega by 1/v_g, so the
        integration variables carry omega as a float plus a sub-ulp offset `dw`, used
        where it matters: in k.
        """
        k = self._k(br, w, dw)
        if not k > 0:
            return 0.0
        slope = abs(br.dk(w))
        if not math.isfinite(slope):
            return 0.0
        ivs = self.kin.allowed(w, k, self.dist.pcut)
        if not ivs:
            return 0.0
        pre = 0.5 * self.strength(w, k) * slope / k
        kin = self.kin
        if self.dist.p0 is not None:
            p0 = self.dist.p0
            if not any(a <= p0 <= b for a, b in ivs):
                return 0.0
            return pre * kin.kappa_energy(p0, w) / p0
        weight = self.dist.weight
        g = lambda p: weight(p) * kin.kappa_energy(p, w)
        total = 0.0
        for a, b in ivs:
            pts = [x for x in self.dist.levels if a < x < b]
            val, _ = integrate.quad(g, a, b, points=pts or None, epsabs=0.0,
                                    epsrel=self.inner_epsrel, limit=200)
            total += val
        return pre * total

    @staticmethod
    def _split(anchor, delta):
        """omega = anchor + delta as (float w, exact rounding residual dw): Knuth's TwoSum."""
        w = anchor + delta
        b = w - anchor
        return w, (anchor - (w - b)) + (delta - b)

    def _panel(self, br, x0, x1, at_lo, at_hi):
        """integral L S d omega over [x0, x1]; x0, x1 = (w, dw) pairs; at_lo / at_hi: a piece boundary."""
        if at_lo and at_hi:
            mid = (0.5 * (x0[0] + x1[0]), 0.0)
            return self._panel(br, x0, mid, True, False) + self._panel(br, mid, x1, False, True)
        kw = dict(epsabs=0.0, epsrel=self.epsrel, limit=400)
        e = self.energy
        length = (x1[0] - x0[0]) + (x1[1] - x0[1])
        if not length > 0:
            return 0.0
        if at_lo or at_hi:
            (edge, off), sign = (x0, 1.0) if at_lo else (x1, -1.0)
            gap = e - edge

            def fn(t):
                delta = off + sign * t * t
                w, dw = self._split(edge, delta)
                x = gap - delta
                return 2.0 * t * self.spectrum(br, w, dw) / (x * x + self.gamma**2)

            val, err = integrate.quad(fn, 0.0, math.sqrt(length), **kw)
        else:
            g = self.gamma
            u0 = math.asinh(((x0[0] - e) + x0[1]) / g)
            u1 = math.asinh(((x1[0] - e) + x1[1]) / g)

            def fn(u):
                w, dw = self._split(e, g * math.sinh(u))
                return self.spectrum(br, w, dw) / (g * math.cosh(u))

            val, err = integrate.quad(fn, u0, u1, **kw)
        if val != 0 and err > 10 * self.epsrel * abs(val):
            self.warnings.append((br.name, x0, x1, val, err))
        return val

    def _refine_boundary(self, br, w):
        """Sub-ulp offset dw of a monochromatic support boundary near float w (Newton on cos = +-1)."""
        kin, p0 = self.kin, self.dist.p0
        k, slope = br.k(w), br.dk(w)
        if not (k > 0 and math.isfinite(slope)):
            return 0.0
        e = math.sqrt(kin.mi**2 + p0**2)
        q = (k - w) * (k + w) - kin.dm2
        c = (q + 2.0 * w * e) / (2.0 * p0 * k)
        target = 1.0 if c > 0 else -1.0
        dc = (2.0 * k * slope - 2.0 * w + 2.0 * e) / (2.0 * p0 * k) - c * slope / k
        if dc == 0:
            return 0.0
        dw = -(c - target) / dc
        return dw if abs(dw) < 8 * np.spacing(w) else 0.0

    # -- public ------------------------------------------------------------

    def rest_rate(self):
        kin = self.kin
        total = 0.0
        for br, roots in zip(self.branches, self.rest_roots):
            for w in roots:
                # Newton residual of omega + E'_j(k) = m_i, so that k(omega*) is exact to first order.
                k, dk = br.k(w), br.dk(w)
                e_out = math.sqrt(kin.mj**2 + k * k)
                g = (w - kin.mi) + e_out
                dw = -g / (1.0 + k * dk / e_out) if math.isfinite(dk) else 0.0
                k = self._k(br, w, dw)
                e_out = kin.mi - (w + dw)
                d_k = 1.0 if self.paper else 1.0 / abs(1.0 / dk + k / e_out)
                beta = math.sqrt(max((e_out - kin.mj) * (e_out + kin.mj), 0.0)) / e_out
                x = (self.energy - w) - dw
                lor = 1.0 / (x * x + self.gamma**2)
                total += self.strength(w, k) * d_k * 0.5 * (1 + beta) * lor
        return total

    def averaged(self):
        if self.dist.kind == "Rest":
            return self.rest_rate()
        self.inner_epsrel = max(1e-12, self.epsrel / 100)
        total = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            for index, br in enumerate(self.branches):
                pieces, points = self.supports(index)
                for a, b in pieces:
                    if not b > a:
                        continue
                    da = db = 0.0
                    if self.dist.p0 is not None:
                        da = self._refine_boundary(br, a) if a > br.lo else 0.0
                        db = self._refine_boundary(br, b) if b < br.hi else 0.0
                    cuts = [(a, da)] + [(x, 0.0) for x in points if a < x < b] + [(b, db)]
                    for j, (x0, x1) in enumerate(zip(cuts[:-1], cuts[1:])):
                        total += self._panel(br, x0, x1, j == 0, j == len(cuts) - 2)
        # Keep only the panels whose error estimate matters for the total.
        self.warnings = [w for w in self.warnings if w[4] > self.epsrel * abs(total)]
        return total / self.dist.norm


def independent_rate(model, epsrel=1e-9, fast=False):
    """<Gamma>, eV: all photons, no detector or escape factors (exact D_k)."""
    return IndependentRate(model, epsrel=epsrel, fast=fast).averaged()


def independent_supports(model, branch_index):
    """Support pieces [(omega_lo, omega_hi), ...] (eV) of S(omega) on one branch."""
    return IndependentRate(model).supports(branch_index)[0]


def independent_edges(model):
    """The branch windows [(omega_lo, omega_hi), ...] (eV) this reference uses."""
    return [(b.lo, b.hi) for b in branches_of(model.dispersion)]


def independent_level_spacing(model):
    """E_vg (eV) as this reference finds it."""
    return IndependentRate(model).energy
