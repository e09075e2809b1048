"""A tiny schema language mirroring how the Collector's confmap/mapstructure decoder reads config.

The Collector decodes YAML with ``ErrorUnused: true`` (unknown keys are fatal), ``WeaklyTypedInput:
false`` (no ``"true"`` for a bool) and case-sensitive key matching (confmap ``internal/decoder.go``,
``Decode``, at v1.65.0 / Collector 0.159.0). A handful of decode hooks loosen this in specific,
well-known ways, and these nodes reproduce exactly those:

* a ``null`` where a struct is expected decodes to the zero value (so ``grpc:`` enables gRPC);
* a string where a ``[]string`` is expected is split on ``,`` (``StringToSliceHookFunc``: only for a
  target of exactly ``[]string``, so not for lists of component ids);
* a string field takes only a string: a YAML ``4317`` or ``true`` there is refused ("expected type
  'string', got unconvertible type 'int'"); only a ``${...}`` substitution keeps its original text
  (``useExpandValue``);
* durations are Go duration strings, or bare numbers (nanoseconds, because ``time.Duration`` is int64);
* integer fields also take floats, which mapstructure truncates, and numbers too large for the Go
  type are truncated silently (mapstructure v2.5.0 ``decodeInt``/``decodeUint``: ``SetInt``/``SetUint``
  without a range check); only a negative number into an unsigned field is refused.

``${...}`` substitutions are resolved before decoding, so any scalar containing one is accepted
wherever a scalar is expected: its final type is only known at deploy time.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from obsgen.check.strict import StrictError, format_loc

Version = tuple[int, int, int]
Loc = tuple[object, ...]

LINT_MEMORY_LIMITER_FIRST = "memory_limiter_first"
LINT_COMPOSITE_RATE_ALLOCATION = "composite_rate_allocation"
# Values the Collector accepts but that cannot be what was meant: a number truncated to its Go type,
# a sampling policy block nobody reads, a policy that can never match. Upstream starts with them.
LINT_SILENTLY_IGNORED = "silently_ignored"
ALL_LINTS: frozenset[str] = frozenset({LINT_MEMORY_LIMITER_FIRST, LINT_COMPOSITE_RATE_ALLOCATION,
                                       LINT_SILENTLY_IGNORED})


class Ctx(NamedTuple):
    """What a check needs besides the value: the pinned version and the enabled obsgen lints."""

    version: Version
    lints: frozenset[str] = ALL_LINTS
    # Extension ids defined in the surrounding document; ``None`` when checking a fragment.
    extensions: frozenset[str] | None = None


def lint(loc: Loc, ctx: Ctx, name: str, message: str) -> list[StrictError]:
    """An obsgen-only finding (``lint(<name>): ...``) when the lint is enabled, else nothing."""
    return [err(loc, f"lint({name}): {message}")] if name in ctx.lints else []


def vstr(version: Version) -> str:
    """Render a version tuple as ``v0.159.0``."""
    return "v" + ".".join(str(part) for part in version)


def err(loc: Loc, message: str) -> StrictError:
    """Build a StrictError from a location tuple."""
    return StrictError(format_loc(loc), message)


def is_env(value: object) -> bool:
    """True for scalars whose final value comes from a ``${...}`` substitution.

    Like confmap's ``findURI``: a ``${`` preceded by an odd number of ``$`` is escaped (``$${x}`` is
    the literal text ``${x}``), so it is not a substitution.
    """
    if not isinstance(value, str) or isinstance(value, Resolved) or "}" not in value:
        return False
    start = value.find("${")
    while start >= 0:
        dollars = len(value[:start]) - len(value[:start].rstrip("$"))
        if dollars % 2 == 0:
            return True
        start = value.find("${", start + 2)
    return False


class Resolved(str):
    """A string value after the Collector's expansion: final text, never a substitution."""

    __slots__ = ()


def unescape_dollars(value: object) -> object:
    """What the Collector reads after expansion: every ``$$`` in a value is one ``$`` (confmap
    ``escapeDollarSigns``). Values with a real substitution are kept as written (known only at deploy
    time); mapping keys are never expanded.
    """
    if isinstance(value, str):
        return value if is_env(value) else Resolved(value.replace("$$", "$"))
    if isinstance(value, dict):
        return {key: unescape_dollars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unescape_dollars(item) for item in value]
    return value


def type_name(value: object) -> str:
    """Name a parsed-YAML value's type the way an error message should."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    return {bool: "bool", int: "int", float: "float", list: "list", dict: "mapping"}.get(
        type(value), "timestamp" if hasattr(value, "isoformat") else type(value).__name__
    )


_DURATION_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# re.ASCII: Go reads only 0-9 (time/format.go leadingInt); Python's \d also matches other scripts' digits.
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)", re.ASCII)


def parse_go_duration(text: str) -> float | None:
    """Parse a Go ``time.ParseDuration`` string into nanoseconds; ``None`` if Go would reject it."""
    body = text
    sign = 1.0
    if body and body[0] in "+-":
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        return None
    total = 0.0
    pos = 0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None:
            return None
        total += float(match.group(1)) * _DURATION_UNITS_NS[match.group(2)]
        pos = match.end()
    return sign * total


def duration_ns(value: object) -> float | None:
    """Nanoseconds of a decoded duration value, ``None`` when unknown (env) or invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(int(value))  # time.Duration is int64: mapstructure truncates a float
    if isinstance(value, str) and not is_env(value):
        return parse_go_duration(value)
    return None


class Node:
    """A schema node: checks one decoded YAML value at a location."""

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Return every violation of this node by ``value``."""
        raise NotImplementedError


class AnyValue(Node):
    """Anything goes (opaque or third-party payloads)."""

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Accept every value."""
        return []


class AnyMapping(Node):
    """A mapping whose content is not modelled (``map[string]any`` upstream)."""

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Require a mapping (or null, which decodes to an empty map)."""
        if value is None or isinstance(value, dict) or is_env(value):
            return []
        return [err(loc, f"expected a mapping, got {type_name(value)}")]


@dataclass
class Str(Node):
    """A Go ``string`` (or string-kinded enum such as a compression type)."""

    choices: tuple[str, ...] | None = None
    case_insensitive: bool = False
    non_empty: bool = False

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Require a string (null is the zero value ""), then apply choices/non_empty."""
        if is_env(value):
            return []
        if value is not None and not isinstance(value, str):
            shown = "" if isinstance(value, dict | list) else f" {value!r}"
            return [err(loc, f"expected a string, got {type_name(value)}{shown}")]
        text = "" if value is None else str(value)
        if self.non_empty and not text:
            return [err(loc, "must not be empty")]
        if self.choices is not None:
            options = [c.lower() for c in self.choices] if self.case_insensitive else list(self.choices)
            probe = text.lower() if self.case_insensitive else text
            if probe not in options:
                shown = ", ".join(repr(c) for c in self.choices)
                return [err(loc, f"unsupported value {text!r}; expected one of {shown}")]
        return []


@dataclass
class Int(Node):
    """A Go integer kind. ``lo``/``hi`` are rules of the component's ``Validate()``; ``bits`` and
    ``unsigned`` describe the Go type (a value outside it is truncated, which only a lint reports)."""

    lo: int | None = None
    hi: int | None = None
    bits: int = 64
    unsigned: bool = False

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Require a number (a float is truncated by mapstructure), then the type's and the rules' range."""
        if value is None or is_env(value):
            return []
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [err(loc, f"expected an integer, got {type_name(value)} {value!r}")]
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return [err(loc, f"expected an integer, got {value!r}")]
        number = int(value)
        if self.unsigned and number < 0:
            return [err(loc, f"{number} overflows uint (an unsigned field)")]
        if self.lo is not None and number < self.lo:
            return [err(loc, f"must be >= {self.lo}, got {number}")]
        if self.hi is not None and number > self.hi:
            return [err(loc, f"must be <= {self.hi}, got {number}")]
        low, high = (0, 2**self.bits - 1) if self.unsigned else (-(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1)
        if not low <= number <= high or (isinstance(value, float) and not value.is_integer()):
            kind = f"{'uint' if self.unsigned else 'int'}{self.bits}"
            return lint(loc, ctx, LINT_SILENTLY_IGNORED,
                        f"{value!r} does not fit a Go {kind}: the Collector silently truncates it")
        return []


UINT = Int(unsigned=True)
INT32 = Int(bits=32)
UINT32 = Int(bits=32, unsigned=True)
UINT16 = Int(bits=16, unsigned=True)


@dataclass
class Float(Node):
    """A Go float64."""

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Require a number."""
        if value is None or is_env(value):
            return []
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [err(loc, f"expected a number, got {type_name(value)} {value!r}")]
        return []


class Bool(Node):
    """A Go bool: no weak typing, so ``"true"`` is rejected."""

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Require a YAML boolean."""
        if value is None or isinstance(value, bool) or is_env(value):
            return []
        return [err(loc, f"expected a bool, got {type_name(value)} {value!r}")]


@dataclass
class Duration(Node):
    """A Go ``time.Duration``: a duration string like ``5s`` or bare integer nanoseconds."""

    non_negative: bool = False
    positive: bool = False

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Parse the value with Go's duration grammar and apply the sign rules."""
        if value is None or is_env(value):
            return []
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return [err(loc, f"expected a Go duration such as '5s', got {type_name(value)} {value!r}")]
        nanos = duration_ns(value)
        if nanos is None:
            return [err(loc, f"time: invalid duration {value!r} (expected a Go duration such as '5s')")]
        if self.positive and nanos <= 0:
            return [err(loc, f"must be greater than zero, got {value!r}")]
        if self.non_negative and nanos < 0:
            return [err(loc, f"must not be negative, got {value!r}")]
        return []


@dataclass
class ListOf(Node):
    """A Go slice; a string is split on ``,`` when the items are strings."""

    item: Node
    non_empty: bool = False
    # False for slices of another type than []string (e.g. []component.ID): no comma splitting there.
    split: bool = True

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Check every item."""
        if value is None or is_env(value):
            return [err(loc, "must not be empty")] if self.non_empty and value is None else []
        if isinstance(value, str) and isinstance(self.item, Str) and self.split:
            return []
        if not isinstance(value, list):
            return [err(loc, f"expected a list, got {type_name(value)}")]
        if self.non_empty and not value:
            return [err(loc, "must not be empty")]
        out: list[StrictError] = []
        for index, item in enumerate(value):
            out += self.item.check(item, (*loc, index), ctx)
        return out


@dataclass
class MapOf(Node):
    """A Go ``map[string]T``."""

    value: Node

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Check every entry's value."""
        if value is None or is_env(value):
            return []
        if not isinstance(value, dict):
            return [err(loc, f"expected a mapping, got {type_name(value)}")]
        out: list[StrictError] = []
        for key, item in value.items():
            out += self.value.check(item, (*loc, str(key)), ctx)
        return out


class Field(NamedTuple):
    """A struct field that only exists in some versions (``since`` inclusive, ``until`` exclusive)."""

    node: Node
    since: Version | None = None
    until: Version | None = None
    why: str = ""


Check = Callable[[Mapping[str, object], Loc, Ctx], list[StrictError]]


@dataclass
class Obj(Node):
    """A Go struct decoded with ErrorUnused: known keys only, then ``Validate()``-style checks.

    ``checks`` only run when the struct decoded cleanly, as the Collector validates after decoding.
    ``open_`` structs tolerate unknown keys (for loosely modelled third-party schemas).
    """

    name: str
    fields: dict[str, Node | Field]
    checks: list[Check] = field(default_factory=list)
    open_: bool = False

    def with_fields(
        self, name: str, extra: dict[str, Node | Field], checks: list[Check] | None = None
    ) -> Obj:
        """A new struct with this one's fields plus ``extra`` (mapstructure ``squash`` embedding)."""
        return Obj(name, {**self.fields, **extra}, list(self.checks) + list(checks or []), self.open_)

    def without(self, *names: str) -> Obj:
        """A new struct without the given fields."""
        kept = {k: v for k, v in self.fields.items() if k not in names}
        return Obj(self.name, kept, list(self.checks), self.open_)

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Decode like mapstructure, then run the struct's checks."""
        if is_env(value):
            return []
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return [err(loc, f"expected a mapping for {self.name}, got {type_name(value)}")]
        out: list[StrictError] = []
        for key, item in value.items():
            spec = self.fields.get(key) if isinstance(key, str) else None
            if spec is None and self.open_:
                continue
            if spec is None:
                close = difflib.get_close_matches(str(key), list(self.fields), n=1, cutoff=0.75)
                guess = f"; did you mean '{close[0]}'?" if close else ""
                out.append(err((*loc, str(key)), f"has invalid keys: {key} (not a field of {self.name}{guess})"))
                continue
            if isinstance(spec, Field):
                gate = field_gate(key, spec, ctx.version)
                if gate:
                    out.append(err((*loc, key), gate))
                    continue
                spec = spec.node
            out += spec.check(item, (*loc, key), ctx)
        if not out:
            for run in self.checks:
                out += run(value, loc, ctx)
        return out


def field_gate(key: str, spec: Field, version: Version) -> str:
    """Explain why a version-gated field is not accepted by ``version``; empty when it is."""
    if spec.since is not None and version < spec.since:
        return f"has invalid keys: {key} (added in {vstr(spec.since)}, pinned {vstr(version)})"
    if spec.until is not None and version >= spec.until:
        why = f": {spec.why}" if spec.why else ""
        return f"'{key}' is not accepted from {vstr(spec.until)} (pinned {vstr(version)}){why}"
    return ""


def present(mapping: Mapping[str, object], key: str) -> bool:
    """True when a key was written, even with a null value."""
    return key in mapping


def number(value: object) -> float | None:
    """A plain number from a decoded scalar, ``None`` when absent, substituted or not numeric."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
