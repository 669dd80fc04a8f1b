"""cnbfluor: detecting the cosmic neutrino background through parametric fluorescence.

One import name, layered:

- `cnbfluor.dispersion`: photon dispersion relations omega(k) as JAX pytrees;
- `cnbfluor.rates`: kinematics, channels and the momentum-averaged rate;
- `cnbfluor.optimize`: multi-start projected gradient ascent in a box;
- the front layer (`cnbfluor.scenario`, `cnbfluor.report`, `cnbfluor.scan`,
  `cnbfluor.optimization`, `cnbfluor.figures`, `cnbfluor.cli`): files, units
  of the scenario keys, people.

The physics layers import nothing from the front layer and touch no files.
"""

import jax

__version__ = "0.2.0"

# The resonance width (~3e-8 eV) is ~1e-6 of the photon energy: float32 cannot
# resolve it, so double precision is switched on, once, for the whole package.
jax.config.update("jax_enable_x64", True)
