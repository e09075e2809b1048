#!/usr/bin/env node
// Parse LogQL and TraceQL queries with Grafana's own lezer grammars (@grafana/lezer-logql,
// @grafana/lezer-traceql: the parsers Grafana's Loki and Tempo query editors use).
//
// Input, on stdin: one JSON object a line, {"lang": "logql" | "traceql", "query": "..."}.
// Output, on stdout: one JSON object a line, in the same order:
//   {"ok": true,  "top": "LogQL", "nodes": [...]}
//   {"ok": false, "top": "LogQL", "errors": [{"from": 12, "to": 13, "near": "..."}], "nodes": [...]}
//   {"ok": false, "error": "unknown lang \"promql\""}          (a line this script cannot read)
// "nodes" is the whole syntax tree in document order, [[name, depth, from, to], ...] with error nodes named
// "⚠" (lezer's error type): the escaping tests compare trees (tests/lezer_grammars.py).
// A query is accepted when its syntax tree has no error node. Lezer parsers recover from errors
// (they always return a tree), so an error shows only as a node of the error type ("⚠", type id 0);
// Grafana's Loki query editor looks for exactly that node to mark a parse error (parseQuery in
// public/app/plugins/datasource/loki/components/monaco-query-field/monaco-completion-provider/validation.ts).
// Positions are UTF-16 code-unit offsets into the query, as lezer counts them.
//
// Grafana variables ($__interval, ${__span.tags...}) are NOT substituted here: the caller decides what
// Grafana would have put there (see tests/grafana_grammars.py).

import { createInterface } from "node:readline";
import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";

const PARSERS = { logql, traceql };
const NEAR = 20; // characters of context either side of an error

function check(lang, query) {
  const parser = PARSERS[lang];
  if (parser === undefined) return { ok: false, error: `unknown lang ${JSON.stringify(lang)}` };
  if (typeof query !== "string") return { ok: false, error: "query is not a string" };
  const tree = parser.parse(query);
  const errors = [];
  const nodes = [];
  let depth = 0;
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push({ from: node.from, to: node.to,
                      near: query.slice(Math.max(0, node.from - NEAR), node.to + NEAR) });
      }
      nodes.push([node.type.isError ? "⚠" : node.type.name, depth, node.from, node.to]);
      depth += 1;
    },
    leave() {
      depth -= 1;
    },
  });
  const top = tree.topNode.type.name;
  return errors.length === 0 ? { ok: true, top, nodes } : { ok: false, top, errors, nodes };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let result;
  try {
    const { lang, query } = JSON.parse(line);
    result = check(lang, query);
  } catch (e) {
    result = { ok: false, error: `bad input line: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}
