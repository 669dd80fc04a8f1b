"""Scenarios: the table of keys, validation, files, and conversion to a `RateModel`.

The front layer's door to the physics: a scenario (TOML, the user's units) is
validated eagerly, outside `jit`, and converted to pytrees in natural units.
"""

from ..errors import ScenarioError as ScenarioError
from ._build import PARAMETERS as PARAMETERS
from ._build import build_model as build_model
from ._build import check_parameter as check_parameter
from ._build import with_parameters as with_parameters
from ._files import default_scenario as default_scenario
from ._files import load_scenario as load_scenario
from ._files import read_toml as read_toml
from ._scenario import CONDITIONAL as CONDITIONAL
from ._scenario import SCHEMA as SCHEMA
from ._scenario import Scenario as Scenario
from ._scenario import parse_scenario as parse_scenario
from ._keys import BY_NAME as BY_NAME
from ._keys import KEYS as KEYS
from ._keys import Key as Key
from ._keys import reference_table as reference_table
from ._keys import item_key as item_key
from ._keys import unit_of as unit_of
