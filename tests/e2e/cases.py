"""The specs the end-to-end harness runs, each with its failure scenario.

Each failing phase breaks two things at once, chosen so the alerts they should raise are distinct: one
service's server spans fail (half of them; its callers handle it, so their own server spans stay OK), and one
call's client spans get slower (the network or the dependency, not the callee's own server spans), which makes
the caller and every service above it on the path slower.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.sender import Failure

ROOT = Path(__file__).resolve().parents[2]

CASES: dict[str, tuple[Path, Failure]] = {
    # single layout, remote write: payments fail; main-service -> crm-system slow (checkout-latency, 1s p99)
    "shop": (ROOT / "specs" / "shop.yaml",
             Failure(errors="payments-service", slow_edge=("main-service", "crm-system"), delay_s=1.2)),
    # gateway + 3 samplers: orders fail; orders -> db slow, which edge waits for (edge-latency, 300ms p99)
    "scaleout": (ROOT / "tests" / "specs" / "scaleout.yaml",
                 Failure(errors="orders", slow_edge=("orders", "db"), delay_s=0.4)),
    # single layout, scrape delivery (OpenMetrics exemplars), a queue, a service.name with spaces and brackets:
    # billing fails (no SLO: the error-ratio alert); search -> elasticsearch slow (search-latency, 250ms p95), by
    # 2.1s: the slow-trace policies (2s-30s, 500ms for pro) see traces, edge-order-latency (2.5s p99) does not fire
    "large": (ROOT / "tests" / "specs" / "large.yaml",
              Failure(errors="billing", slow_edge=("search", "elasticsearch"), delay_s=2.1)),
}
