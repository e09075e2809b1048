"""The long-window benchmark's backfill (benchmarks/long_windows.py) writes what it claims, as the real promtool
reads it: the shop's SLI recordings with the labels the rendered rules give them, one sample a minute, errors
below requests, and blocks cut where the compactor cuts them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from benchmarks import long_windows as lw
from obsgen.generate import generate
from tests import realtools
from tests.conftest import ROOT

_DUMP_LINE = re.compile(r"^\{(.*)\} (\S+) (\d+)$")


def _shop_slos() -> dict:
    result = generate(ROOT / "specs" / "shop.yaml", targets=["rules"])
    assert result.ok
    return yaml.safe_load(next(a.text for a in result.artifacts if a.path == "prometheus/rules/slos.yaml"))


def test_sli_labels_are_the_recordings_output_labels() -> None:
    rule = {"record": "slo:obsgen_sli_requests:rate5m",
            "expr": 'sum by (service_name) (rate(x{service_name="checkout", span_kind="SPAN_KIND_SERVER"}[5m]))',
            "labels": {"slo": "checkout-availability", "slo_kind": "availability", "slo_window": "30d"}}
    assert lw.recorded_labels(rule) == (("service_name", "checkout"), ("slo", "checkout-availability"),
                                        ("slo_kind", "availability"), ("slo_window", "30d"))


def test_backfill_through_the_real_promtool(tmp_path: Path) -> None:
    promtool = realtools.require("promtool")
    series = lw.sli_series(_shop_slos(), 2)
    assert len(series) == 4 and {s.metric for s in series} == set(lw.SLI_METRICS)
    boundary = 20000 * lw.BLOCK_SECONDS  # a block boundary; the backfill crosses it
    start, end = boundary - 5 * 60, boundary + 10 * 60
    filled = lw.backfill(Path(promtool), series, start, end, tmp_path / "tsdb", tmp_path)
    assert filled["samples"] == 4 * 15

    (tmp_path / "tsdb" / "wal").mkdir()  # promtool's dump opens the head's WAL too
    dump = subprocess.run([promtool, "tsdb", "dump", str(tmp_path / "tsdb")], capture_output=True, text=True,
                          check=True).stdout
    got: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
    for line in dump.splitlines():
        m = _DUMP_LINE.match(line)
        assert m, line
        labels = tuple(sorted((k, v) for k, v in re.findall(r'(\w+)="([^"]*)"', m.group(1))))
        got.setdefault(labels, []).append((int(m.group(3)), float(m.group(2))))
    want = {(("__name__", s.metric), *s.labels) for s in series}
    assert {tuple(sorted(k)) for k in got} == {tuple(sorted(k)) for k in want}
    for samples in got.values():
        assert [t for t, _ in samples] == [t * 1000 for t in range(start, end, 60)]
        assert all(v > 0 for _, v in samples)
    by_slo: dict[str, dict[str, list[float]]] = {}
    for labels, samples in got.items():
        d = dict(labels)
        by_slo.setdefault(d["slo"] + d["slo_kind"], {})[d["__name__"]] = [v for _, v in sorted(samples)]
    for pair in by_slo.values():
        errors, requests = pair[lw.SLI_METRICS[0]], pair[lw.SLI_METRICS[1]]
        assert all(e < r for e, r in zip(errors, requests, strict=True))

    listing = subprocess.run([promtool, "tsdb", "list", str(tmp_path / "tsdb")], capture_output=True, text=True,
                             check=True).stdout
    spans = sorted((int(f[1]), int(f[2])) for f in (row.split() for row in listing.splitlines()[1:]))
    assert len(spans) == 2 and spans[0][1] <= boundary * 1000 <= spans[1][0]
