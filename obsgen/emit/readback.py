"""Read rendered YAML back the way the tools' YAML libraries read it: PyYAML's safe loader, on libyaml.

A faster direct constructor on libyaml's nodes stood here until issue 15's measurement
(``benchmarks/machinery.py``): it saved 5 % of a 1,000-service render's CPU and none of the parent's
(the parse-back ran mostly in the forked checking child, since removed too), under the 20 % a piece of speed machinery
must save to stay.
"""

from __future__ import annotations

import yaml

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> object:
    """``yaml.load(text, Loader=CSafeLoader)`` (the pure-Python safe loader without libyaml)."""
    return yaml.load(text, Loader=_Loader)  # a safe loader
