"""cnbfluor: detecting the cosmic neutrino background through parametric fluorescence.

One import name, layered:

- `cnbfluor.dispersion`: photon dispersion relations omega(k) as JAX pytrees;
- `cnbfluor.rates`: kinematics, channels and the momentum-averaged rate;
- `cnbfluor.optimize`: multi-start projected gradient ascent in a box;
- the front layer (`cnbfluor.scenario`, `cnbfluor.report`, `cnbfluor.scan`,
  `cnbfluor.optimization`, `cnbfluor.figures`, `cnbfluor.cli`): files, units
  of the scenario keys, people.

The physics layers import nothing from the front layer and touch no files.
Double precision is switched on by the physics packages themselves
(`cnbfluor.dispersion`, which `cnbfluor.rates` imports, and `cnbfluor.optimize`),
so each works on its own; importing `cnbfluor` alone (`--version`, argument
errors) does not import JAX.
"""

__version__ = "0.2.0"
