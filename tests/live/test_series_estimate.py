"""The series estimate ``validate`` prints is what a real Prometheus 3 holds.

A Prometheus scrapes every series the spec declares (``benchmarks/series.py``: dimension values as the
spec declares them, histogram boundaries read from the rendered Collector config, not from obsgen's
plan) and evaluates the rendered rules; its head series count (``/api/v1/status/tsdb``) must match the
estimate of exported plus recorded series within ``TOLERANCE``. Not counted by the estimate, and
subtracted from the head (by metric name, ``seriesCountByMetricName``): the scrape's own five series
(``up``, ``scrape_*``) and alert state series (``ALERTS``, ``ALERTS_FOR_STATE``: they depend on
traffic, not on the spec, and a pending alert that fires leaves a stale series behind in the head).

The rule files are copies with every group's interval set to 2 s (the rendered 1m would make the test
wait minutes); the series a rule writes do not depend on how often it runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.plan.cardinality import estimate
from tests import realtools

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.prom import Prometheus  # noqa: E402
from benchmarks.series import Exposition, SyntheticTarget, declared_series  # noqa: E402
from benchmarks.synth import write_spec  # noqa: E402

TOLERANCE = 0.01  # the estimate's own assumptions (every declared span seen with both status codes) hold here
NOT_ESTIMATED = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                           "scrape_samples_post_metric_relabeling", "scrape_series_added",
                           "ALERTS", "ALERTS_FOR_STATE"})
FAST_INTERVAL = "2s"
SCRAPE_SECONDS = 5  # a loaded 2-core machine needs more than 1 s to append the first scrape of shop's 36k series


def _fast_rule_files(files: dict[str, str], directory: Path) -> list[Path]:
    out = []
    for path, text in sorted(files.items()):
        if not path.startswith("prometheus/rules/"):
            continue
        doc = yaml.safe_load(text)
        for group in doc["groups"]:
            group["interval"] = FAST_INTERVAL
        target = directory / Path(path).name
        target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        out.append(target)
    return out


def _wait_for_scrapes(prom: Prometheus, count: int, series: int, timeout: float = 90.0) -> None:
    """Until ``count`` scrapes of all ``series`` succeeded (two make ``rate()`` return a value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (prom.scalar('sum_over_time(up{job="synthetic"}[5m])') >= count
                and prom.scalar('scrape_samples_scraped{job="synthetic"}') == series):
            return
        time.sleep(1)
    raise AssertionError(f"fewer than {count} scrapes of {series:,} series in {timeout:.0f} s:\n{prom.log_tail()}")


def _wait_for_rounds(prom: Prometheus, rounds_after: float, timeout: float = 90.0) -> None:
    """Until every group has evaluated after ``rounds_after`` (unix seconds) and reports healthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        groups = prom.rule_groups()
        last = [g["lastEvaluation"] for g in groups]
        if groups and all(not t.startswith("0001") for t in last):
            stamps = [time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone for t in last]
            if min(stamps) > rounds_after:
                bad = [r for g in groups for r in g["rules"] if r.get("health") == "err"]
                assert not bad, bad[:3]
                return
        time.sleep(1)
    raise AssertionError(f"rule groups did not all evaluate within {timeout:.0f} s:\n{prom.log_tail()}")


def _settled_head(prom: Prometheus, most_rounds: int = 8) -> int:
    """The head's series count once a whole round of every group added none.

    Recordings read recordings of other groups (an SLO's window ratios read its 5m SLI recordings, the period
    burn rate the window ratio), and Prometheus orders no evaluation across groups: a chain of three groups may
    need three rounds before its last series exists, more on a loaded machine.
    """
    _wait_for_rounds(prom, time.time())
    head = prom.head_series()
    for _ in range(most_rounds):
        _wait_for_rounds(prom, time.time())
        now = prom.head_series()
        if now == head:
            return head
        head = now
    raise AssertionError(f"the head still grew after {most_rounds} rounds of every group: {head:,} series")


@pytest.mark.parametrize("spec", ["shop", "synth20"])
def test_the_estimate_matches_a_real_prometheus_head(spec: str, tmp_path: Path) -> None:
    binary = realtools.require("prometheus")
    path = ROOT / "specs" / "shop.yaml" if spec == "shop" else write_spec(20, tmp_path)
    result = generate(path)
    assert result.ok and result.plan is not None
    files = {a.path: a.text for a in result.artifacts}
    est = estimate(result.plan, [r for f in result.facts for r in f.recordings])
    declared = declared_series(result.plan, files)
    # the input side alone is exact: the estimate's exported series are the ones a Collector would write
    assert est.exported == declared.series
    rule_files = _fast_rule_files(files, tmp_path)
    with SyntheticTarget(Exposition(declared, SCRAPE_SECONDS)) as target, \
            Prometheus(Path(binary), rule_files, target.address, f"{SCRAPE_SECONDS}s") as prom:
        _wait_for_scrapes(prom, 2, declared.series)
        head = _settled_head(prom)
        by_metric = prom.head_series_by_metric()
    assert sum(by_metric.values()) == head
    other = sum(n for name, n in by_metric.items() if name in NOT_ESTIMATED)
    measured = head - other
    assert abs(est.total - measured) <= TOLERANCE * measured, (
        f"estimate {est.total:,} (exported {est.exported:,}, recorded {est.recorded:,}) vs Prometheus head "
        f"{head:,} - {other} scrape and alert-state series = {measured:,}")
