"""Writing PromQL text: string literals and regexes that read back as exactly the value given.

The functions live in ``obsgen.emit.escape`` (one per sink: ``promql_string``, ``promql_regex``); these are
the names the PromQL code uses. ``tests/test_promql_differential.py`` parses their output with
promql-parser and promtool 3, ``tests/test_escape_sinks.py`` with promql-parser and RE2.
"""

from __future__ import annotations

from obsgen.emit.escape import promql_regex as regex_quote
from obsgen.emit.escape import promql_string as quote

__all__ = ["quote", "regex_quote"]
