"""Seeded random designs of every dispersion model against the independent reference.

A fast version of `benchmarks/audit.py` (see `tests/designs.py` for the designs: a third
detuned at random, a third onto band edges, a third into gaps). Per model:
values and gradients of ln R (events/yr) w.r.t. the free keys finite; the averaged
rate against `independent_rate`; the reported error never below the true error by more
than 3x. Designs of at most two templates per model vary inside one jitted, vmapped
function (`with_parameters` on every continuous key), so each model compiles once.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import designs as D
from cnbfluor import rates
from tests.independent import independent_rate
from cnbfluor.scenario import build_model, default_scenario, with_parameters

SEED = 7
N_SAMPLE = 12  # values and gradients
N_REFERENCE = 4
CHUNK = 40
REF_FLOOR = 1e-8  # the reference's own relative accuracy
#: Models whose every sampled design meets 1e-5 (default) and 1e-4 (fast) in the audit.
STRICT = ("vacuum", "index", "linear-band", "bragg-isotropic")


def _sample(name):
    """Up to N_SAMPLE designs from the first two templates of a seeded draw."""
    drawn = D.designs(name, 2 * N_SAMPLE, SEED)
    keys = []
    for d in drawn:
        key = D.template_key(name, d)
        if key not in keys:
            keys.append(key)
    chosen = [d for d in drawn if D.template_key(name, d) in keys[:2]]
    return chosen[:N_SAMPLE]


class _Template:
    def __init__(self, name, group, quadrature):
        first = group[0]
        self.scenario = default_scenario().replace(first)
        self.model = build_model(self.scenario, rates.QUADRATURES[quadrature])
        self.free = D.free_keys(name, first)
        self.other = [k for k in sorted(D.continuous(first)) if k not in self.free]
        free, other = self.free, self.other

        def f(xf, xo, model):
            m = with_parameters(model, {**dict(zip(free, xf)), **dict(zip(other, xo))})
            result = rates.rate_result(m)
            return jnp.log(rates.events_per_year(m, result.rate)), (result.rate, result.error, result.flags)

        # The template closed over, as `cnbfluor scan` and `optimize` use it (so
        # the separable momentum rule is the one tested where m_j = 0).
        model = self.model
        self._run = jax.jit(jax.vmap(jax.value_and_grad(lambda xf, xo: f(xf, xo, model), has_aux=True)))

    def rows(self, group):
        xf = np.array([D.free_values(d, self.free, self.scenario) for d in group])
        xo = np.array([[D.continuous(d)[k] for k in self.other] for d in group]).reshape(len(group), -1)
        return xf, xo

    def __call__(self, xf, xo):
        """value, grad, rate, error, flags for rows (padded to CHUNK-sized batches)."""
        outs = []
        for start in range(0, len(xf), CHUNK):
            a, b = xf[start:start + CHUNK], xo[start:start + CHUNK]
            pad = CHUNK - len(a)
            a = np.concatenate([a, np.repeat(a[:1], pad, 0)])
            b = np.concatenate([b, np.repeat(b[:1], pad, 0)])
            (val, (rate, err, flags)), grad = self._run(jnp.asarray(a), jnp.asarray(b))
            outs.append([np.asarray(x)[: CHUNK - pad] for x in (val, grad, rate, err, flags)])
        return [np.concatenate(parts) for parts in zip(*outs)]


@functools.lru_cache(maxsize=None)
def _groups(name, quadrature):
    """[(template, designs)] for the model's sample, templates built once per worker."""
    sample = _sample(name)
    by_key = {}
    for d in sample:
        by_key.setdefault(D.template_key(name, d), []).append(d)
    return [(_Template(name, group, quadrature), group) for group in by_key.values()]


def _describe(design):
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in design.items()) + "}"


@pytest.mark.audit
@pytest.mark.parametrize("name", D.MODELS)
def test_designs_match_the_reference_with_honest_error_and_finite_gradients(name):
    """Per model, one jitted vmap of value-and-gradient over a seeded sample (default rule).

    (i) values and gradients finite, no flags; (ii) the first designs against the
    independent reference: within 1e-5 for the models in `STRICT`, and for
    every model the reported error never below a third of the true error. The
    `fast` rule, finite differences and larger samples are in `benchmarks/audit.py`.
    """
    failures = []
    for template, group in _groups(name, "default"):
        xf, xo = template.rows(group)
        value, grad, rate, error, flags = template(xf, xo)
        for d, v, g, fl in zip(group, value, grad, flags):
            if not (np.isfinite(v) and np.all(np.isfinite(g))):
                failures.append(f"non-finite value {v} or gradient {g} for {_describe(d)}")
            if int(fl):
                failures.append(f"flags {int(fl)} for {_describe(d)}")
        picked = [i for i, d in enumerate(group) if d in _sample(name)[:N_REFERENCE]]
        for i in picked:
            design = group[i]
            model = with_parameters(template.model, D.continuous(design))
            ref = independent_rate(model, epsrel=1e-9)
            true = abs(float(rate[i]) - ref)
            rel = true / abs(ref)
            # Every design of the well-conditioned models meets the goal; for the
            # others (very slow knots, EIT lines, lossy poles, roots within
            # ~1e-12 eV of a zone edge) a miss must at least be announced by the
            # estimate, which the README reports per model.
            if not rel <= 1e-5 and name in STRICT:
                failures.append(f"rel error {rel:.2e} > 1e-5 for {_describe(design)}")
            if max(true - REF_FLOOR * abs(ref), 0.0) > 3.0 * float(error[i]):
                failures.append(f"true error {true:.3e} > 3 x reported {float(error[i]):.3e} for {_describe(design)}")
    assert not failures, "\n".join(failures)
