"""obsgen's YAML text, defined: PyYAML's emitter with obsgen's representers.

``dump_yaml_reference`` is the definition every faster writer (``obsgen.emit.fast``) must match byte for
byte; it imports nothing of obsgen's, so the fast writer and the template layer can both depend on it
without importing each other.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: same output, ~20x faster


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Block style, insertion order, no aliases, never a line fold that changes a value."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# Line breaks other than \n end a literal block early, and a keep-chomped block (text ending in blank
# lines) makes the emitter close the document with '...': such text is double-quoted instead.
_BLOCK_UNSAFE = ("\r", "\t", "\x85", "\u2028", "\u2029", "\ufeff")


def _literal_block_ok(value: str) -> bool:
    return (
        "\n" in value
        and not value.endswith(("\n\n", " "))
        and not value.startswith((" ", "\n"))
        and " \n" not in value  # no line ends with a space
        and not any(ch in value for ch in _BLOCK_UNSAFE)
        and value.replace("\n", "").isprintable()
    )


def _repr_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if _literal_block_ok(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _repr_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinity are never written to a config")
    return dumper.represent_scalar("tag:yaml.org,2002:float", repr(value))


_Dumper.add_representer(str, _repr_str)
_Dumper.add_representer(float, _repr_float)


def dump_yaml_reference(data: object) -> str:
    """Deterministic block YAML for any plain data (dict order is kept: callers decide key order).

    The definition of obsgen's YAML text: ``dump_yaml`` must produce exactly this, only faster.
    """
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=2**31 - 1,
        indent=2,
    )
