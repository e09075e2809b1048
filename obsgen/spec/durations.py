"""Go-syntax durations (``300ms``, ``1h30m``), the unit every tool in the stack parses.

Spec durations are kept as integer nanoseconds so arithmetic (bucket boundaries, burn-rate
windows, sizing) is exact, and are formatted back in the syntax each consumer expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

# Go's time.ParseDuration units, plus ``d`` because SLO windows are written in days everywhere
# (Prometheus accepts it too); it is converted to hours before it reaches a Go config.
_UNITS_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 24 * 3600 * 1_000_000_000,
}
# re.ASCII: Go reads only 0-9 (time/format.go leadingInt), Python's \d also other scripts' digits ("\u0663s");
# an ASCII class also compiles in a fraction of the time.
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)", re.ASCII)
_MAX_NS = (1 << 63) - 1  # Go's time.Duration is an int64 of nanoseconds


class DurationError(ValueError):
    """A duration string that Go (and obsgen) would reject."""


@total_ordering
@dataclass(frozen=True)
class Duration:
    """A non-negative duration with nanosecond precision."""

    ns: int

    @property
    def seconds(self) -> float:
        """The duration in (possibly fractional) seconds."""
        return self.ns / 1e9

    @property
    def milliseconds(self) -> float:
        """The duration in (possibly fractional) milliseconds."""
        return self.ns / 1e6

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.ns < other.ns

    def go(self) -> str:
        """Format for Go configs (Collector, Tempo) as Go's ``time.Duration.String`` writes it, without
        its zero parts: ``2.5s`` (not ``2s500ms``), ``1m30s``, ``1.5ms``, ``1h``; no ``d``."""
        return _go_format(self.ns)

    def prom(self) -> str:
        """Format for Prometheus (rule ``for``, range selectors): integer units incl. ``d``, ``ms`` minimum."""
        if self.ns % 1_000_000:
            raise DurationError(f"{self.go()} is finer than Prometheus' millisecond resolution")
        return _format(self.ns, ("d", "h", "m", "s", "ms"))

    def __str__(self) -> str:
        return self.go()


def _format(ns: int, units: tuple[str, ...]) -> str:
    if ns == 0:
        return "0s"
    out = []
    rest = ns
    for unit in units:
        size = _UNITS_NS[unit]
        count, rest = divmod(rest, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def _decimal(count: int, size: int, unit: str) -> str:
    """``count / size`` with the fraction's trailing zeros cut, e.g. (2500, 1000, "s") -> ``2.5s``."""
    whole, frac = divmod(count, size)
    if not frac:
        return f"{whole}{unit}"
    digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}{unit}"


def _go_format(ns: int) -> str:
    if ns == 0:
        return "0s"
    if ns < _UNITS_NS["s"]:
        for unit in ("ms", "us"):
            if ns >= _UNITS_NS[unit]:
                return _decimal(ns, _UNITS_NS[unit], unit)
        return f"{ns}ns"
    hours, rest = divmod(ns, _UNITS_NS["h"])
    minutes, rest = divmod(rest, _UNITS_NS["m"])
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (_decimal(rest, _UNITS_NS["s"], "s") if rest else "")


def parse_duration(text: str) -> Duration:
    """Parse a Go duration (plus ``d``). Negative values and bare numbers are rejected."""
    if not isinstance(text, str):
        raise DurationError("a duration must be a string such as '30s' or '1h30m'")
    raw = text.strip()
    if not raw:
        raise DurationError("empty duration")
    if raw.startswith("-"):
        raise DurationError(f"negative duration {raw!r}")
    if raw.startswith("+"):
        raw = raw[1:]
    if raw == "0":
        return Duration(0)
    pos = 0
    total = 0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        number, unit = match.groups()
        whole, _, frac = number.partition(".")
        size = _UNITS_NS[unit]
        total += int(whole or "0") * size
        if frac:
            total += int(frac) * size // (10 ** len(frac))
        pos = match.end()
    if pos != len(raw) or pos == 0:
        raise DurationError(
            f"invalid duration {text!r}: use a number and a unit (ns, us, ms, s, m, h, d), e.g. '500ms' or '1h30m'"
        )
    if total > _MAX_NS:
        raise DurationError(f"duration {text!r} overflows Go's time.Duration")
    return Duration(total)
