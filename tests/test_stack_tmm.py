"""The oblique-incidence Bragg stack (`dispersion.Stack`) against an independent transfer-matrix code.

`Stack.bloch_cosine(omega, perp_squared, polarization)` is PHYSICS.md Sec. 9:

    cos(k_z L) = cos(q1 d1) cos(q2 d2) - (1/2)(e1/e2 + e2/e1) sin(q1 d1) sin(q2 d2),
    q_i = sqrt(n_i^2 omega^2 - k_perp^2),  TE: e_i = q_i,  TM: e_i = q_i / n_i^2.

It is checked here against `tmm` (S. J. Byrnes, arXiv:1603.02720), which
shares no code and no formula with cnbfluor: it takes a list of layers and an
angle of incidence, applies Snell's law and the Fresnel coefficients interface
by interface, and returns the amplitudes r, t and the power T of that finite
stack. It never sees a Bloch wavenumber. Units are consistent: thicknesses in
1/eV and lam_vac = 2 pi / omega in 1/eV; the angle theta is in the outer
medium (index n_out), so k_perp = n_out omega sin(theta).

The two meet only through exact physics of a lossless period between two
half-spaces of one index. In that medium's plane-wave basis the transfer matrix
of a period is M = [[1/t, r*/t*], [r/t, 1/t*]] (det M = 1, |M11|^2 - |M21|^2 = 1),
and tr M / 2 is the Bloch cosine f = cos(k_z L) (a trace does not depend on the
basis, so on the outer medium). Hence:

1. One period: f = Re(1/t) pointwise, to rounding, for TE and TM at many
   angles, including the evanescent regime n1 omega < k_perp < n2 omega
   (outer medium n2), where q1 is imaginary and f must stay real.
2. N periods (N = 40, outer medium n1, so every k_perp <= n1 omega
   propagates): M^N = U_{N-1}(f) M - U_{N-2}(f) (Chebyshev), so
   T_N = 1 / (1 + |M21|^2 U_{N-1}(f)^2). In a stop band (|f| > 1,
   cosh(kappa L) = |f|): |M21|^2 >= f^2 - 1, so T_N <= 1/cosh^2(N kappa L), a
   bound the formula predicts at every frequency; deep in a gap
   (N kappa L >= 6) T_N < 1e-4. In a pass band T_N = 1 exactly where
   N k_z L = m pi, i.e. at f = cos(m pi / N), m = 1 .. N-1; between these
   resonances T_N oscillates (Fabry-Perot), so the envelope (a sliding maximum
   over two fringes) stays near 1.
3. Band edges: tmm's edge of a stop band is its last full-transmission
   resonance (located from tmm's amplitudes alone). The formula puts it at
   |f| = cos(pi/N), a distance ~ (1 - cos(pi/N)) / |f'| inside the pass band,
   so it converges to the Bloch edge |f| = 1 as 1/N^2: checked at N = 40 and
   N = 80 (distance ratio ~4) and by Richardson extrapolation of the two.
4. Normal incidence: TE = TM = the normal-incidence formula (and the existing
   `Bragg` model).
5. Brewster angle of the n1/n2 interface (tan theta_B = n2/n1 in n1): the TM
   interfaces do not reflect, so the TM gaps close (f = cos(q1 d1 + q2 d2)) and
   tmm transmits everything through the whole stack; the TE gaps stay open.
6. The light lines q_i = 0 (k_perp = n_i omega, where an integral over k_perp
   ends or a layer turns evanescent): f is finite there and continuous.

The layers are not quarter-wave (1.3 and 0.8 times the quarter-wave
thicknesses at 0.025 eV), so the first three gaps are all open at normal
incidence.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tmm
from scipy import optimize

from cnbfluor import dispersion
from cnbfluor.dispersion import Stack

N1, N2, W0 = 1.5, 2.3, 0.025  # indices; quarter-wave design energy (eV)
D1 = 1.3 * math.pi / (2 * N1 * W0)  # 1/eV (1 um = 5.068 /eV): about 10.7 um
D2 = 0.8 * math.pi / (2 * N2 * W0)
PERIODS = 40
ANGLES = (0.0, 20.0, 45.0, 70.0)  # degrees, in the outer medium n1
POLARIZATIONS = ("TE", "TM")
TMM_POL = {"TE": "s", "TM": "p"}
BREWSTER = math.degrees(math.atan2(N2, N1))  # about 56.9 degrees


def _stack():
    return Stack(n1=N1, d1=D1, n2=N2, d2=D2, n_bands=3)


# Compiled once per array shape: the bisections below call it many times.
_bloch_cosine = jax.jit(
    lambda stack, omega, perp_squared, pol: stack.bloch_cosine(omega, perp_squared, pol), static_argnums=3
)


def _cosine(omega, sin_theta, pol, n_out=N1):
    """Stack.bloch_cosine at k_perp = n_out omega sin(theta), as a NumPy array."""
    omega = np.asarray(omega, dtype=float)
    perp_squared = (n_out * omega * sin_theta) ** 2
    return np.asarray(_bloch_cosine(_stack(), jnp.asarray(omega), jnp.asarray(perp_squared), pol))


def _layers(periods, n_out):
    return [n_out] + [N1, N2] * periods + [n_out], [np.inf] + [D1, D2] * periods + [np.inf]


def _tmm(pol, omega, theta, periods, n_out=N1):
    n_list, d_list = _layers(periods, n_out)
    return tmm.coh_tmm(TMM_POL[pol], n_list, d_list, theta, 2 * math.pi / omega)


def _transmission(pol, omega, theta, periods):
    return np.array([_tmm(pol, float(w), theta, periods)["T"] for w in np.atleast_1d(omega)])


def _phase_thickness(sin_theta, n_out=N1):
    """sum_i d_i q_i / omega: the optical thickness of a period along z (1/eV)."""
    return sum(d * math.sqrt(n**2 - (n_out * sin_theta) ** 2) for n, d in ((N1, D1), (N2, D2)))


def _grid(theta_deg, points=500):
    """Frequencies over the first three pass bands and gaps (the Bragg conditions
    omega * phase thickness = pi, 2 pi, 3 pi)."""
    scale = math.pi / _phase_thickness(math.sin(math.radians(theta_deg)))
    return np.linspace(0.05 * scale, 3.4 * scale, points)


def _bisect(g, lo, hi, iterations=56):
    """Vectorised bisection for a sign change of g in [lo, hi] (brackets < 0.1 eV: 56 halvings reach rounding)."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    g_lo = g(lo)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        g_mid = g(mid)
        same = np.sign(g_mid) == np.sign(g_lo)
        lo, hi, g_lo = np.where(same, mid, lo), np.where(same, hi, mid), np.where(same, g_mid, g_lo)
    return 0.5 * (lo + hi)


@functools.lru_cache(maxsize=None)
def _bloch_edges(theta_deg, pol):
    """Edges |f| = 1 of the stop bands in the grid's range, from the Stack (sorted, eV)."""
    s = math.sin(math.radians(theta_deg))
    omega = _grid(theta_deg, 4000)
    excess = np.abs(_cosine(omega, s, pol)) - 1.0
    i = np.nonzero(np.diff(np.sign(excess)))[0]
    return _bisect(lambda w: np.abs(_cosine(w, s, pol)) - 1.0, omega[i], omega[i + 1])


@functools.lru_cache(maxsize=None)
def _scan(theta_deg, pol):
    """(omega, f from the Stack, T from tmm through PERIODS periods) on the grid."""
    omega = _grid(theta_deg)
    theta = math.radians(theta_deg)
    return omega, _cosine(omega, math.sin(theta), pol), _transmission(pol, omega, theta, PERIODS)


# ------------------------------------------------------------------ one period


@pytest.mark.parametrize(
    "n_out,angles",
    [
        (N1, (0.0, 20.0, 45.0, BREWSTER, 70.0, 89.0)),
        # Outer medium n2: beyond sin(theta) = n1/n2 (40.7 degrees) layer 1 is
        # evanescent (q1 imaginary) and the formula's analytic continuation is tested.
        (N2, (30.0, 40.0, 41.0, 50.0, 70.0, 85.0)),
    ],
)
def test_one_period_bloch_cosine_is_re_inverse_t(n_out, angles):
    """cos(k_z L) = Re(1/t) of one period in tmm, on a (frequency x angle) grid in one broadcast call."""
    omega = np.linspace(0.002, 0.1, 120)[:, None]  # the first 3-5 bands at every angle
    s = np.sin(np.radians(np.array(angles)))[None, :]
    perp_squared = (n_out * omega * s) ** 2
    for pol in POLARIZATIONS:
        f = np.asarray(_stack().bloch_cosine(jnp.asarray(omega), jnp.asarray(perp_squared), pol))
        assert f.shape == perp_squared.shape
        assert np.all(np.isfinite(f))
        reference = np.array(
            [
                [(1.0 / _tmm(pol, w, math.radians(a), 1, n_out)["t"]).real for a in angles]
                for w in omega[:, 0]
            ]
        )
        # Rounding only: relative to max(1, |f|) (f grows like cosh with evanescent layers).
        np.testing.assert_array_less(np.abs(f - reference), 1e-11 * np.maximum(1.0, np.abs(reference)))
        assert np.max(np.abs(reference)) > 1.01  # stop bands are in the range: not a trivially small f


# ------------------------------------------------------------- N = 40 periods


@pytest.mark.parametrize("pol", POLARIZATIONS)
@pytest.mark.parametrize("theta_deg", ANGLES)
def test_stop_bands_block_and_pass_bands_transmit(theta_deg, pol):
    omega, f, T = _scan(theta_deg, pol)
    kappa_l = np.arccosh(np.maximum(np.abs(f), 1.0))
    gap = np.abs(f) > 1.0
    # Three stop bands in the range, as the Bragg conditions say.
    assert np.count_nonzero(np.diff(gap.astype(int)) == 1) == 3

    # Stop bands: T_N <= 1/cosh^2(N kappa L) at every frequency (exact for a
    # lossless stack, see the module docstring). The bound is sharp: reached
    # where Im M11 = 0, inside each gap (measured T_N cosh^2 up to 1 - 2e-9), so
    # an |f| too large anywhere in a gap breaks it. Deep in (N kappa L >= 6) T_N is tiny.
    bound = 1.0 / np.cosh(PERIODS * kappa_l[gap]) ** 2
    np.testing.assert_array_less(T[gap], bound * (1 + 1e-6) + 1e-14)
    deep = PERIODS * kappa_l >= 6.0
    assert np.count_nonzero(deep) >= 10
    assert np.max(T[deep]) < 1e-4

    # Pass bands (|f| < 0.9, away from the edges): the Fabry-Perot fringes'
    # envelope, a sliding maximum over +-2 fringe spacings (pi / (N x phase
    # thickness) each, the spacing without slow light), reaches ~1 (measured >= 0.93).
    half_window = 2 * math.pi / (PERIODS * _phase_thickness(math.sin(math.radians(theta_deg))))
    k = int(math.ceil(half_window / (omega[1] - omega[0])))
    envelope = np.array([T[max(0, i - k) : i + k + 1].max() for i in range(omega.size)])
    passing = np.abs(f) < 0.9
    assert np.count_nonzero(passing) > omega.size // 3
    assert np.min(envelope[passing]) > 0.5


@pytest.mark.parametrize("pol", POLARIZATIONS)
@pytest.mark.parametrize("theta_deg", ANGLES)
def test_full_transmission_where_n_kz_l_is_a_multiple_of_pi(theta_deg, pol):
    """Every resonance the formula predicts in the first three bands, f = cos(m pi/N), is one in tmm: T = 1."""
    s = math.sin(math.radians(theta_deg))
    edges = _bloch_edges(theta_deg, pol)
    assert edges.size == 6
    bands = [(0.01 * edges[0], edges[0]), (edges[1], edges[2]), (edges[3], edges[4])]
    targets = np.cos(np.arange(1, PERIODS) * math.pi / PERIODS)
    # f is monotonic across each band (from (-1)^m to (-1)^(m+1)): each level is crossed once.
    levels = np.tile(targets, len(bands))
    lo = np.repeat([lo for lo, _ in bands], targets.size)
    hi = np.repeat([hi for _, hi in bands], targets.size)
    resonances = _bisect(lambda w: _cosine(w, s, pol) - levels, lo, hi)
    T = _transmission(pol, resonances, math.radians(theta_deg), PERIODS)
    # Measured 1 - T ~ 1e-13; an error of ~1e-8 in f near a band edge would show here.
    assert np.max(np.abs(1.0 - T)) < 1e-9


# ------------------------------------------------------------------ band edges


def _tmm_outer_resonance(pol, theta, edge, band_side, slope, periods):
    """tmm's outermost full-transmission resonance next to a stop-band edge: (omega, T there).

    The reflection of N periods vanishes at a resonance. tmm's amplitudes give
    the lower-left transfer-matrix elements r/t of N periods and of one period;
    their ratio is real (Chebyshev: it is U_{N-1}(cos k_z L) = sin(N k_z L) / sin(k_z L),
    whatever the layers) and changes sign there, so a root finder locates the
    resonance to rounding. The bracket only selects which root: from 0.3 of
    the expected distance inside the gap (no root in a gap) to 1.8 of it into
    the band (the next resonance is 4 times as far). The position comes from
    tmm alone.
    """
    expected = (1.0 - math.cos(math.pi / periods)) / abs(slope)

    def ratio(w):
        stack, cell = _tmm(pol, w, theta, periods), _tmm(pol, w, theta, 1)
        return ((stack["r"] / stack["t"]) / (cell["r"] / cell["t"])).real

    bracket = (edge - 0.3 * band_side * expected, edge + 1.8 * band_side * expected)
    omega = optimize.brentq(ratio, *bracket, xtol=1e-16 * edge)
    return omega, _tmm(pol, omega, theta, periods)["T"]


@pytest.mark.parametrize("theta_deg,pol", [(0.0, "TE"), (45.0, "TE"), (45.0, "TM"), (70.0, "TE"), (70.0, "TM")])
def test_band_edges_from_tmm_converge_to_bloch_edges(theta_deg, pol):
    theta = math.radians(theta_deg)
    s = math.sin(theta)
    edges = _bloch_edges(theta_deg, pol)
    h = 1e-7 * edges
    slopes = (_cosine(edges + h, s, pol) - _cosine(edges - h, s, pol)) / (2 * h)
    # The pass band is below a gap's lower edge (even index) and above its upper edge.
    band_side = np.where(np.arange(edges.size) % 2 == 0, -1.0, 1.0)
    distance = {}
    for periods in (40, 80):
        found = [_tmm_outer_resonance(pol, theta, *args, periods) for args in zip(edges, band_side, slopes)]
        peaks = np.array([w for w, _ in found])
        assert min(t for _, t in found) > 1 - 1e-9  # a genuine full-transmission resonance
        distance[periods] = band_side * (peaks - edges)
        assert np.all(distance[periods] > 0)  # on the pass-band side of the Bloch edge
        # There |f| = cos(pi/N): the Bloch phase is pi/N from the band edge.
        level = math.cos(math.pi / periods)
        np.testing.assert_allclose(np.abs(_cosine(peaks, s, pol)), level, rtol=0, atol=1e-8 * (1 - level))
    # tmm's edge approaches the Bloch edge as 1/N^2: d_N ~ (1 - cos(pi/N)) / |f'|, so
    # d_40 / d_80 -> 3.9985 while (pi/N)^2 / 2 << |f|max - 1 (the gap's depth), the
    # range where f is linear. Measured 3.85-4.00, and 3.51 for the shallowest gap
    # (45 degrees TM, second gap: |f|max - 1 = 3e-3, no deeper than (pi/40)^2 / 2).
    # Richardson (4 d_80 - d_40) / 3 removes the 1/N^2 term: measured < 1.4% of
    # d_40, and 4.6% in that shallowest gap.
    ratio = distance[40] / distance[80]
    assert np.all((ratio > 3.4) & (ratio < 4.05))
    extrapolated = (4 * distance[80] - distance[40]) / 3
    assert np.all(np.abs(extrapolated) < 0.06 * distance[40])
    # In absolute terms: at N = 40 the tmm edge is < 0.6% of the frequency from the
    # Bloch edge (measured at most 0.52%).
    assert np.all(distance[40] < 6e-3 * edges)


# ----------------------------------------------------------- normal incidence


def test_normal_incidence_te_equals_tm_equals_bragg():
    omega = np.linspace(1e-4, 0.1, 400)
    zero = np.zeros_like(omega)
    f_te = np.asarray(_stack().bloch_cosine(jnp.asarray(omega), jnp.asarray(zero), "TE"))
    f_tm = np.asarray(_stack().bloch_cosine(jnp.asarray(omega), jnp.asarray(zero), "TM"))
    a, b = N1 * omega * D1, N2 * omega * D2
    normal = np.cos(a) * np.cos(b) - 0.5 * (N1 / N2 + N2 / N1) * np.sin(a) * np.sin(b)
    np.testing.assert_allclose(f_te, f_tm, rtol=0, atol=1e-14)
    np.testing.assert_allclose(f_te, normal, rtol=0, atol=1e-13)
    bragg = np.asarray(dispersion.Bragg(N1, N2, D1, D2).bloch_cosine(jnp.asarray(omega)))
    np.testing.assert_allclose(f_te, bragg, rtol=0, atol=1e-13)
    # and tmm's s and p stacks are the same stack at normal incidence
    probe = omega[::40]
    t_s, t_p = _transmission("TE", probe, 0.0, PERIODS), _transmission("TM", probe, 0.0, PERIODS)
    np.testing.assert_allclose(t_s, t_p, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ Brewster


def test_brewster_angle_closes_tm_gaps_only():
    theta = math.radians(BREWSTER)
    s = math.sin(theta)
    omega = _grid(BREWSTER, 2000)
    f_tm = _cosine(omega, s, "TM")
    f_te = _cosine(omega, s, "TE")
    # TM: e1 = e2, so f = cos(q1 d1 + q2 d2), which sweeps [-1, 1] without leaving it.
    assert np.max(np.abs(f_tm)) <= 1 + 1e-9
    assert np.min(f_tm) < -0.999 and np.max(f_tm) > 0.999
    phase = omega * _phase_thickness(s)
    np.testing.assert_allclose(f_tm, np.cos(phase), rtol=0, atol=1e-12)
    # TE: the three gaps stay open and deep.
    gap_te = np.abs(f_te) > 1.0
    assert np.count_nonzero(np.diff(gap_te.astype(int)) == 1) == 3
    assert np.max(np.abs(f_te)) > 1.1
    # tmm: the whole 40-period stack transmits TM at every frequency; TE is blocked in its gaps.
    probe = omega[::20]
    np.testing.assert_array_less(1.0 - _transmission("TM", probe, theta, PERIODS), 1e-9)
    deep_te = omega[PERIODS * np.arccosh(np.maximum(np.abs(f_te), 1.0)) >= 6.0][::5]
    assert deep_te.size >= 5
    assert np.max(_transmission("TE", deep_te, theta, PERIODS)) < 1e-4
    # 5 degrees off Brewster the TM gaps are open again.
    assert np.max(np.abs(_cosine(omega, math.sin(theta - math.radians(5.0)), "TM"))) > 1.0 + 1e-4


# ------------------------------------------------------------------ light lines


@pytest.mark.parametrize("pol", POLARIZATIONS)
def test_light_lines_finite_and_continuous(pol):
    """k_perp = n1 omega (q1 = 0) and k_perp = n2 omega (q2 = 0): f finite, the limit of its neighbours, and tmm's."""
    omega = np.linspace(0.005, 0.08, 16)
    for n in (N1, N2):
        on_line = np.asarray(_stack().bloch_cosine(jnp.asarray(omega), jnp.asarray((n * omega) ** 2), pol))
        assert np.all(np.isfinite(on_line))
        for side in (1 - 1e-7, 1 + 1e-7):
            near = np.asarray(_stack().bloch_cosine(jnp.asarray(omega), jnp.asarray((side * n * omega) ** 2), pol))
            np.testing.assert_allclose(on_line, near, rtol=1e-5, atol=1e-5)
        # tmm just off the line, entering from a denser medium (index 3) so both sides propagate.
        n_out = 3.0
        for side in (1 - 1e-6, 1 + 1e-6):
            theta = math.asin(side * n / n_out)
            reference = np.array([(1.0 / _tmm(pol, w, theta, 1, n_out)["t"]).real for w in omega])
            np.testing.assert_allclose(on_line, reference, rtol=1e-4, atol=1e-4)
