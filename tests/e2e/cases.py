"""The specs the end-to-end harness runs, each with its failure scenario.

Each failing phase breaks two things at once: one service fails half its requests (``obsgen traffic``'s
``errors:SERVICE=50``: its spans and its callers' client spans are marked ERROR and the failure propagates up
the synchronous call chain), and one call gets slower (``slow:CALLER->CALLEE=FACTOR``: the call's own latency,
network time to an instrumented callee or the whole call to a database, times FACTOR), which slows the caller
and every service above it on the path. Which alerts that must raise is computed from what was sent
(``test_e2e.expected_entities``), not written here.

The healthy phase is healthy by construction: the temp copy of each spec gets ``traffic.errors.percent: 0`` and
a fast default latency (``HEALTHY_TRAFFIC``), because a traffic model may describe a normal day that already
burns an SLO (the shop's does: see the report of issue 18).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.sender import Failure

ROOT = Path(__file__).resolve().parents[2]

# merged over the spec's own traffic section (or added): no errors, and every node fast and tight
HEALTHY_TRAFFIC = {
    "errors": {"percent": 0},
    "latency": {"default": {"median": "4ms", "p99": "12ms"}},
    "network": {"median": "1ms", "p99": "3ms"},
}


# attribute mixes for the attributes a spec declares and its traffic model does not mix (obsgen traffic sets none
# without a mix), so policies and span-metrics dimensions on them see values: (value as text, share in %)
INT_MIX = {"100": 70.0, "5000": 20.0, "250000": 10.0}
BOOL_MIX = {"true": 3.0}


def attribute_mixes(spec_attributes: dict[str, Any], mixed: set[str]) -> dict[str, Any]:
    """``traffic.attributes`` entries for the declared attributes that have no mix yet."""
    out: dict[str, Any] = {}
    for name, attr in spec_attributes.items():
        if name in mixed or name.startswith("http."):
            continue
        kind = (attr or {}).get("type", "string")
        if (attr or {}).get("values"):
            values = [str(v) for v in attr["values"]]
            out[name] = {"values": {v: round(100 / len(values), 2) for v in values}}
        elif kind == "int":
            out[name] = {"values": dict(INT_MIX)}
        elif kind == "bool":
            out[name] = {"values": dict(BOOL_MIX)}
    return out


@dataclass(frozen=True)
class Case:
    spec: Path
    scenario: str  # obsgen traffic --scenario for the failing phase
    rate: float  # traces per second (obsgen traffic --rate; the entry endpoints keep their shares)
    failure: Failure  # the same breakage for the harness's own sender (tests/e2e/sender.py)
    sender: str = "obsgen"  # or "own": tests/e2e/sender.py, where obsgen traffic cannot send the topology yet

    @property
    def degraded(self) -> str:
        """The service the failing phase makes fail."""
        return next(p.split(":", 1)[1].split("=")[0] for p in self.scenario.split(",") if p.startswith("errors:"))


CASES: dict[str, Case] = {
    # single layout, remote write: payments fail; main-service -> crm-system slow
    "shop": Case(ROOT / "specs" / "shop.yaml", "errors:payments-service=50,slow:main-service->crm-system=1500", 10.0,
                 Failure(errors="payments-service", slow_edge=("main-service", "crm-system"), delay_s=1.2)),
    # gateway + 3 samplers behind the load-balancing exporter: orders fail; orders -> db slow, which edge waits for
    "scaleout": Case(ROOT / "tests" / "specs" / "scaleout.yaml", "errors:orders=50,slow:orders->db=100", 8.0,
                     Failure(errors="orders", slow_edge=("orders", "db"), delay_s=0.4)),
    # single layout, scrape delivery (OpenMetrics exemplars), a queue, a service.name with spaces and brackets:
    # orders fails (orders-availability, 99.9%: its page tier proves `for: 2m`); search -> elasticsearch slow by
    # ~2s, so the slow-trace policies (2s-30s, 500ms for pro) see traces too
    "large": Case(ROOT / "tests" / "specs" / "large.yaml", "errors:orders=50,slow:search->elasticsearch=500", 8.0,
                  Failure(errors="orders", slow_edge=("search", "elasticsearch"), delay_s=2.1),
                  # obsgen traffic's consumer span ("process kafka") makes none of notifier's declared calls, so
                  # notifier -> email-provider never has traffic and its ServiceGraphEdgeNoTraffic alert is right
                  # to fire: the harness's sender sends this topology until the generator does
                  sender="own"),
}
