"""Where ``obsgen traffic`` gets its traces: the seeded synthetic generator ``simulate`` uses too.

The one place that knows the generator's entry points, so the sender, the scenarios and the tests read
traces through the same call ``obsgen sampling simulate`` makes for the same seed.
"""

from __future__ import annotations

from collections.abc import Iterator

from obsgen.plan import Plan
from obsgen.traffic.sender import TraceLike

DEFAULT_RATE = 10.0


def default_rate(plan: Plan) -> float:
    """Traces per second when --rate is not given."""
    return DEFAULT_RATE


def synthetic_traces(plan: Plan, seed: int, count: int) -> Iterator[TraceLike]:
    """The first ``count`` traces of the generator for ``seed``."""
    from obsgen.traffic._standin import generate

    return generate(plan, seed, count)
