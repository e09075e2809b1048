"""The Collector's `$` rules, as the target writes them and the strict model reads them back."""

from __future__ import annotations

import copy

import pytest

from obsgen.targets.collector.strict.config import validate_collector_config
from obsgen.targets.collector.strict.schema import is_env, unescape_dollars
from obsgen.targets.collector.values import collector_literal, env_reference

VERSION = (0, 159, 0)
DOC = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
    "processors": {
        "tail_sampling": {
            "decision_wait": "10s",
            "policies": [{"name": "re", "type": "string_attribute",
                          "string_attribute": {"key": "k", "values": ["^a$"], "enabled_regex_matching": True}}],
        }
    },
    "exporters": {"debug": {}},
    "service": {"pipelines": {"traces": {"receivers": ["otlp"], "processors": ["tail_sampling"],
                                         "exporters": ["debug"]}}},
}


def with_ts(**changes: object) -> dict:
    """DOC with tail_sampling fields replaced."""
    doc = copy.deepcopy(DOC)
    doc["processors"]["tail_sampling"].update(changes)
    return doc


@pytest.mark.parametrize(
    ("value", "expected"),
    [("${env:X}", True), ("a${X}b", True), ("$${env:X}", False), ("$$${env:X}", True), ("$x", False),
     ("${", False), ("cost$$", False), (5, False)],
)
def test_is_env_follows_confmap_escaping(value: object, expected: bool) -> None:
    assert is_env(value) is expected


def test_unescape_dollars_reads_like_the_collector() -> None:
    assert unescape_dollars({"k$$": ["a$$", "$${x}", "${env:Y}$$", 1]}) == {"k$$": ["a$", "${x}", "${env:Y}$$", 1]}


def test_collector_literal_round_trips_through_the_collector_reading() -> None:
    for text in ("^a$", "$", "$$", "${env:SECRET}", "a$${b}", "no dollars"):
        assert unescape_dollars(collector_literal(text)) == text


def test_escaped_substitution_is_checked_as_literal_text() -> None:
    # `$${...}` is the literal text `${...}`: not a duration, so the Collector would refuse it
    assert validate_collector_config(with_ts(decision_wait="$${env:WAIT}"), VERSION)
    assert validate_collector_config(with_ts(decision_wait=env_reference("WAIT")), VERSION) == []


def test_regex_is_checked_after_unescaping() -> None:
    doc = with_ts()
    doc["processors"]["tail_sampling"]["policies"][0]["string_attribute"]["values"] = [collector_literal("^(a$")]
    errors = validate_collector_config(doc, VERSION)
    assert any("invalid RE2" in e.message and "'^(a$'" in e.message for e in errors), errors
    doc["processors"]["tail_sampling"]["policies"][0]["string_attribute"]["values"] = [collector_literal("^a$")]
    assert validate_collector_config(doc, VERSION) == []


def test_env_reference_refuses_non_names() -> None:
    with pytest.raises(ValueError):
        env_reference("A}B")
    assert env_reference("HOSTNAME") == "${env:HOSTNAME}"
