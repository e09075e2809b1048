"""What obsgen renders differently for Prometheus 2.x and 3.x, and which ``stack.prometheus`` pins it supports.

Differences between the majors that reach obsgen's rules, panels and promtool tests (upstream:
prometheus/prometheus v0.305.0 = 3.5.0, ``docs/migration.md``, and the source files named below):

- ``le`` label values. Prometheus 3 rewrites the ``le`` of classic histograms (and the ``quantile`` of
  summaries) it *parses* -- every scrape protocol and ``promtool tsdb create-blocks-from openmetrics`` -- into
  OpenMetrics float form: ``1`` becomes ``1.0``, ``0.00005`` becomes ``5e-05``
  (``model/textparse/openmetricsparse.go`` ``normalizeFloatsInLabelValues``, ``protobufparse.go``
  ``formatOpenMetricsFloat``). Samples that arrive by remote write keep their labels as sent
  (``storage/remote/write_handler.go`` has no such step; tests/test_prometheus3.py shows it on the server), and
  both span-metrics producers send Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` (``0.00005``, ``1``): the
  Collector's prometheusremotewrite exporter (opentelemetry-collector-contrib v0.159.0
  ``pkg/translator/prometheusremotewrite/helper.go``) and Tempo's metrics-generator (grafana/tempo
  ``modules/generator/registry/histogram.go`` ``formatFloat``). Prometheus 2 stores every value as it arrives,
  so what it holds depends on the scrape protocol. The bucket matcher is therefore written for the pinned major
  *and* the delivery path (``stored_le``); for remote write, obsgen's default, both majors store the same.
- Range selectors are left-open in 3.x: a sample exactly at ``t - range`` is no longer in the window
  (``promql/engine.go`` ``matrixIterSlice``: ``if t > mintFloats``; migration guide "Range selectors and
  lookback exclude samples coinciding with the left boundary"). obsgen's shortest range is the 5m base window
  over 15-60s samples, and the windowed SLO ratios divide two ``sum_over_time`` of the same range, so both
  sides lose the same boundary sample: no rendering change, proven by tests/test_prometheus3.py.
- UTF-8 names (3.x ``model.NameValidationScheme = UTF8Validation`` in prometheus/common v0.65.0): 3.x accepts
  dotted metric and label names, 2.x does not. Both producers escape attribute names to ``[A-Za-z0-9_]`` by
  default, and every name obsgen writes is a legacy name, so one rendering is valid under both majors.
- ``holt_winters`` is gone from 3.x and ``.`` in regex matchers also matches ``\\n``: obsgen uses neither.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, NamedTuple

from obsgen.spec.versions import version_tuple

# Oldest supported release: Debian bookworm's 2.42.0, the 2.x promtool and server the test suite runs a
# 2.x-pinned spec against (tests/test_prometheus2.py).
Delivery = Literal["remote_write", "scrape"]
"""How span metrics reach Prometheus: pushed (remote write) or scraped from the Collector's prometheus exporter."""

MIN_2X = (2, 42)
# 2.55 is the last 2.x minor: the next release, module v0.300.0, is 3.0.0.
MAX_2X = (2, 55)
# Newest 3.x minor whose source was read for the differences above (v0.313.2 = 3.13.2: same
# normalizeFloatsInLabelValues, same left-open matrixIterSlice). 3.5.0 is built and tested.
MAX_KNOWN_3X = (3, 13)
SUPPORTED_TEXT = "2.42.0-2.55.x or 3.0.0-3.13.x"

class VersionFinding(NamedTuple):
    """A problem with the pinned version: code, message, hint, and whether it is only a warning."""

    code: str
    message: str
    hint: str
    warning: bool = False


def check_version(text: str) -> VersionFinding | None:
    """Why ``stack.prometheus`` (already ``N.N.N``) cannot be rendered for, or None when it can."""
    major, minor, _ = version_tuple(text)
    hint = f"pin a Prometheus version obsgen supports: {SUPPORTED_TEXT}"
    if major == 2 and MIN_2X <= (major, minor) <= MAX_2X:
        return None
    if major == 3 and (major, minor) <= MAX_KNOWN_3X:
        return None
    if major == 3:
        return VersionFinding(
            "OBS507", f"Prometheus {text} is newer than the newest 3.x obsgen knows ({MAX_KNOWN_3X[0]}."
            f"{MAX_KNOWN_3X[1]}); the rules are rendered for 3.x as obsgen knows it",
            "check the release notes for changes to PromQL, le/quantile label values or rule files, or pin "
            f"{MAX_KNOWN_3X[0]}.{MAX_KNOWN_3X[1]}.x", warning=True)
    if major == 2 and (major, minor) < MIN_2X:
        why = f"older than {MIN_2X[0]}.{MIN_2X[1]}.0, the oldest 2.x obsgen's rules and promtool tests are tested on"
    elif major == 2:
        why = f"not a Prometheus release: 2.x ended with {MAX_2X[0]}.{MAX_2X[1]}, the next release is 3.0.0"
    else:
        why = "not a major version obsgen knows (2.x and 3.x differ in le label values and range selectors, " \
              "so the rules must be written for one of them)"
    return VersionFinding("OBS506", f"Prometheus {text} is not supported: {why}", hint)


def major(text: str) -> int:
    """Major version of a supported pin (2 or 3)."""
    return version_tuple(text)[0]


# ------------------------------------------------------------------------------------------------
# le label values


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of a positive finite float and the decimal point position.

    ``0.25`` -> ``("25", 0)``, ``1500.0`` -> ``("15", 4)``: value = 0.digits * 10**dp. Python's ``repr`` and Go's
    shortest formatting both produce the shortest digit string that reads back as the same float.
    """
    _, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    dp = len(text) + exponent
    stripped = text.rstrip("0")
    return (stripped, dp) if stripped else ("0", 1)


def go_format_f(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f', -1, 64)``: how both span-metrics producers write ``le``."""
    if value == 0:
        return "0"
    digits, dp = _shortest_digits(value)
    if dp <= 0:
        return "0." + "0" * -dp + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def openmetrics_float(value: float) -> str:
    """Prometheus 3's ``formatOpenMetricsFloat``: Go's ``'g'`` shortest form, ``.0`` added when it has no ``.``/``e``.

    Go's shortest ``'g'`` switches to ``d.ddde±XX`` when the decimal exponent is below -4 or at least 6
    (``internal/strconv/ftoa.go`` ``formatDigits``: ``eprec = 6`` when shortest; exponent at least two digits).
    """
    if value == 0:
        return "0.0"
    digits, dp = _shortest_digits(value)
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    text = go_format_f(value)
    return text if "." in text else text + ".0"


def _regex_literal(text: str) -> str:
    """``text`` as an RE2 literal (only ``.`` and ``+`` occur in float text)."""
    return text.replace(".", r"\.").replace("+", r"\+")


def stored_le(seconds: float, prometheus_version: str, delivery: Delivery) -> tuple[str, ...]:
    """Every spelling of a bucket boundary the pinned Prometheus stores for the configured delivery path.

    - ``remote_write`` (the Collector's prometheusremotewrite exporter, Tempo's metrics-generator): the producer's
      Go ``'f'`` spelling, kept as sent by 2.x and 3.x alike (``1``).
    - ``scrape`` of the Collector's prometheus exporter, which obsgen renders with ``enable_open_metrics``:
      3.x normalises every scrape protocol to the OpenMetrics float (``1.0``). 2.x stores the exposition as it
      comes: OpenMetrics (first in 2.x's scrape Accept header, ``scrape/scrape.go`` ``scrapeAcceptHeader``, and in
      the default ``scrape_protocols`` from 2.49 on; prometheus/common v0.65.0
      ``expfmt/openmetrics_create.go`` ``writeOpenMetricsFloat``: ``1.0``) or, when a scrape config prefers the
      text format, ``expfmt/text_create.go`` ``writeFloat`` (Go ``'g'``: ``1``, which is always the ``'f'`` or the
      OpenMetrics spelling).
    """
    sent, parsed = go_format_f(seconds), openmetrics_float(seconds)
    if delivery == "remote_write":
        return (sent,)
    if major(prometheus_version) >= 3 or sent == parsed:
        return (parsed,)
    return (sent, parsed)


def le_matcher(seconds: float, prometheus_version: str, delivery: Delivery) -> tuple[str, str, str]:
    """The ``le`` matcher that selects one bucket boundary as the pinned Prometheus stores it (``stored_le``)."""
    spellings = stored_le(seconds, prometheus_version, delivery)
    if len(spellings) == 1:
        return ("le", "=", spellings[0])
    return ("le", "=~", "|".join(_regex_literal(s) for s in spellings))


# ------------------------------------------------------------------------------------------------
# Samples per window


def check_sample_interval(interval_seconds: float, window_seconds: float, window_text: str) -> VersionFinding | None:
    """Whether span metrics every ``interval_seconds`` leave enough samples in obsgen's shortest range window.

    A range selector ``[w]`` holds the samples in ``(t - w, t]`` in Prometheus 3 (left-open; 2.x also took a
    sample exactly at ``t - w``), so samples ``i`` apart give at least ``floor(w / i)`` of them. ``rate()`` needs
    two: above ``w / 2`` some evaluations return nothing at all. Grafana sizes ``$__rate_interval`` for four
    (4 x the datasource's ``timeInterval``, which obsgen sets to this interval).
    """
    samples = int(window_seconds // interval_seconds)
    if samples >= 4:
        return None
    where = f"the {window_text} base window of every rule holds only {samples} sample(s) {interval_seconds:g}s apart"
    if samples < 2:
        return VersionFinding(
            "OBS508", f"{where}: rate() over it returns nothing at some evaluations (range selectors are left-open "
            "in Prometheus 3: a sample exactly at the window start is not in it)",
            f"set scrape_interval to at most {window_seconds / 4:g}s (the Collector flushes span metrics at it)")
    return VersionFinding(
        "OBS508", f"{where}; rates over fewer than 4 samples are mostly extrapolation",
        f"set scrape_interval to at most {window_seconds / 4:g}s (the Collector flushes span metrics at it)",
        warning=True)
