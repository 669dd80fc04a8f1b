"""Slow, independent reference for the momentum-averaged rate (tests only).

A second method, sharing no code with `rates.average`: for linear dispersions
omega = a + b k the roots of F(k; p, c) are closed-form (a quadratic), the
rate is summed over roots with D_k = 1/|dF/dk| written out, and the angle and
momentum integrals are SciPy adaptive quadrature (`quad`), in the original
variables (c, then p), with the resonance passed as a break point.
"""

import math
import warnings

import numpy as np
from scipy import integrate, optimize

from cnbfluor import dispersion as disp_mod
from cnbfluor import rates


class LorentzNumpy:
    """Lossless Lorentz medium in plain numpy/scipy, written apart from `dispersion`."""

    def __init__(self, d):
        self.eps_inf = float(d.eps_inf)
        self.de = np.asarray(d.delta_eps, dtype=float)
        self.wt = np.asarray(d.omega_T, dtype=float)
        self.w_max = float(d.omega_max)
        self.poles = [(float(a), float(b)) for a, b in zip(self.de, self.wt)]

    def eps(self, w):
        # Plain floats: numpy on one-element arrays would dominate the run time.
        return self.eps_inf + sum(d * t * t / (t * t - w * w) for d, t in self.poles)

    def k_array(self, w):
        w = np.asarray(w)[:, None]
        return w[:, 0] * np.sqrt(self.eps_inf + np.sum(self.de * self.wt**2 / (self.wt**2 - w**2), axis=1))

    def deps(self, w):
        return sum(d * t * t * 2 * w / (t * t - w * w) ** 2 for d, t in self.poles)

    def k(self, w):
        return w * math.sqrt(self.eps(w))

    def dk(self, w):
        e = self.eps(w)
        return math.sqrt(e) + w * self.deps(w) / (2 * math.sqrt(e))

    def windows(self):
        """Branches: below omega_T1, and from each omega_L (a zero of eps) to the next omega_T."""
        out = [(1e-3 * self.wt[0], self.wt[0] * (1 - 1e-7))]
        tops = list(self.wt[1:] * (1 - 1e-7)) + [self.w_max]
        for j, top in enumerate(tops):
            hi = self.wt[j + 1] if j + 1 < len(self.wt) else 10 * self.w_max
            w_l = optimize.brentq(self.eps, self.wt[j] * (1 + 1e-12), hi * (1 - 1e-12), xtol=1e-20, rtol=1e-15)
            out.append((w_l * (1 + 1e-7), top))
        return out


def _linear_coefficients(model):
    d = model.dispersion
    if isinstance(d, disp_mod.Vacuum):
        a, b = 0.0, 1.0
    elif isinstance(d, disp_mod.ConstantIndex):
        a, b = 0.0, 1.0 / float(d.n)
    elif isinstance(d, disp_mod.LinearBand):
        a = float(d.omega_c) - float(d.velocity) * float(d.k_c)
        b = float(d.velocity)
    else:
        raise TypeError("reference path handles linear dispersions only")
    return a, b, float(d.k_min), float(d.k_max)


class ReferenceRate:
    """Scalar-Python rate model extracted from a `RateModel`."""

    def __init__(self, model):
        self.model = model
        nu = model.neutrinos
        self.m_i = float(nu.m_initial)
        self.m_j = float(nu.m_final)
        self.c2 = float(nu.mixing_squared())
        if isinstance(model.dispersion, disp_mod.Lorentz):
            self.lorentz = LorentzNumpy(model.dispersion)
            self.windows = self.lorentz.windows()
        else:
            self.lorentz = None
            self.a, self.b, self.k_min, self.k_max = _linear_coefficients(model)
        med = model.medium
        self.channel = med.channel
        self.width = float(med.width)
        self.energy = float(rates.level_spacing(model))
        self.paper = model.dk == "paper"
        const = rates.constants
        base = const.FERMI_CONSTANT**2 * self.c2 / (2 * math.pi) * float(med.density) ** 2
        f, d, eps = float(med.form_factor), float(med.dipole), float(med.mixing)
        if self.channel == "M1":
            self.prefactor = base * f**2 * d**2
        elif self.channel == "E1":
            self.prefactor = base / const.ELEMENTARY_CHARGE**2 * f * d**4
        else:
            self.prefactor = base * f**2 * (eps * d) ** 2

    def strength(self, omega, k):
        if self.channel == "M1":
            return self.prefactor * k**4 / omega
        if self.channel == "E1":
            return self.prefactor * omega * k**4
        return self.prefactor * omega * k**2

    def _numeric_roots(self, p, c):
        """Roots in omega on each Lorentz branch: brentq between the branch edges."""
        e_i = math.sqrt(self.m_i**2 + p**2)
        lz = self.lorentz
        out = []
        for lo, hi in self.windows:
            g = lambda w: w + math.sqrt(self.m_j**2 + p**2 + lz.k(w) ** 2 - 2 * p * lz.k(w) * c) - e_i
            # On each branch G rises monotonically (k and dk/domega > 0), so
            # one sign change between the window edges brackets the only root.
            if g(lo) * g(hi) < 0:
                w = optimize.brentq(g, lo, hi, xtol=1e-22, rtol=1e-15)
                out.append((lz.k(w), w, e_i - w, 1.0 / lz.dk(w)))
        return out

    def roots(self, p, c):
        """Closed-form roots of omega(k) + sqrt(m_j^2 + p^2 + k^2 - 2pkc) = E_i."""
        if self.lorentz is not None:
            return self._numeric_roots(p, c)
        e_i = math.sqrt(self.m_i**2 + p**2)
        big_a = e_i - self.a
        qa = 1.0 - self.b**2
        qb = 2.0 * big_a * self.b - 2.0 * p * c
        qc = self.m_j**2 + p**2 - big_a**2
        if abs(qa) < 1e-14:
            candidates = [-qc / qb]
        else:
            disc = qb**2 - 4 * qa * qc
            if disc < 0:
                return []
            s = math.sqrt(disc)
            candidates = [(-qb + s) / (2 * qa), (-qb - s) / (2 * qa)]
        out = []
        for k in candidates:
            e_out = big_a - self.b * k
            if self.k_min <= k <= self.k_max and k > 0 and e_out >= self.m_j:
                out.append((k, self.a + self.b * k, e_out, self.b))
        return out

    def rate_at(self, p, c):
        total = 0.0
        for k, omega, e_out, v_g in self.roots(p, c):
            slope = v_g + (k - p * c) / e_out
            d_k = 1.0 if self.paper else 1.0 / abs(slope)
            beta = math.sqrt(max(e_out**2 - self.m_j**2, 0.0)) / e_out
            kappa = 0.5 * (1 + beta)
            lor = 1.0 / ((self.energy - omega) ** 2 + 0.25 * self.width**2)
            total += self.strength(omega, k) * d_k * kappa * lor
        return total

    def resonant_cosine(self, p):
        """c at which omega* = E_vg (may lie outside [-1, 1])."""
        omega = self.energy
        k = self.lorentz.k(omega) if self.lorentz is not None else (omega - self.a) / self.b
        e_i = math.sqrt(self.m_i**2 + p**2)
        e_out2 = (e_i - omega) ** 2
        return (self.m_j**2 + p**2 + k**2 - e_out2) / (2 * p * k)

    def rate_at_momentum(self, p, epsrel=1e-11):
        """Gamma(p) = (1/2) integral dc sum_roots (...)."""
        points = []
        if p > 0:
            c_res = self.resonant_cosine(p)
            if -1 < c_res < 1:
                points = [c_res]
        val, _ = integrate.quad(
            lambda c: self.rate_at(p, c), -1.0, 1.0, points=points or None,
            epsabs=0.0, epsrel=epsrel, limit=400,
        )
        return 0.5 * val

    def averaged(self, epsrel=1e-9):
        dist = self.model.momentum
        if isinstance(dist, rates.Rest):
            return self.rate_at(0.0, 0.0)
        if isinstance(dist, rates.Monochromatic):
            return self.rate_at_momentum(float(dist.momentum))
        if isinstance(dist, rates.FermiDirac):
            t = float(dist.temperature)
            weight = lambda p: p**2 / (math.exp(p / t) + 1.0)
            p_max, scale = 45 * t, t
            norm = 1.5 * 1.2020569031595942 * t**3
        else:
            s = float(dist.sigma)
            weight = lambda p: p**2 * math.exp(-0.5 * (p / s) ** 2)
            p_max, scale = 9.5 * s, s
            norm = math.sqrt(math.pi / 2) * s**3
        # Break points: where the resonance enters the angular range, plus the bulk.
        points = [scale * x for x in (0.5, 1, 2, 4, 8, 16) if scale * x < p_max]
        g = lambda p: abs(self.resonant_cosine(p)) - 1.0
        grid = np.geomspace(1e-12, p_max, 400)
        vals = [g(p) for p in grid]
        for lo, hi, v0, v1 in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]):
            if v0 * v1 < 0:
                points.append(optimize.brentq(g, lo, hi, xtol=1e-20, rtol=1e-15))
        with warnings.catch_warnings():
            # QUADPACK reports "roundoff detected" once it reaches ~1e-10:
            # far below the 1e-6 at which the tests compare.
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            val, _ = integrate.quad(
                lambda p: weight(p) * self.rate_at_momentum(p, epsrel=max(1e-11, epsrel / 100)), 0.0, p_max,
                points=sorted(points), epsabs=0.0, epsrel=epsrel, limit=800,
            )
        return val / norm
