#!/usr/bin/env node
// Parse LogQL and TraceQL with Grafana's own lezer grammars (@grafana/lezer-logql, @grafana/lezer-traceql:
// the parsers of Grafana's Loki and Tempo query editors) and print each syntax tree, for
// tests/lezer_grammars.py (tools/js/check-queries.mjs only says whether a query parses).
//
// stdin: one JSON object a line, {"lang": "logql" | "traceql", "query": "..."}.
// stdout: one JSON object a line, in order: {"nodes": [[name, depth, from, to], ...]} in document order
// (error nodes are named "⚠", lezer's error type), or {"error": "..."} for a line it cannot read.
// Offsets are UTF-16 code units, as lezer counts them.
// The packages are loaded from the node_modules folder named by OBSGEN_NODE_MODULES (tools/js's),
// through their CommonJS entry points.

import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";

const require = createRequire(join(process.env.OBSGEN_NODE_MODULES ?? "node_modules", "..", "index.js"));
const PARSERS = {
  logql: require("@grafana/lezer-logql").parser,
  traceql: require("@grafana/lezer-traceql").parser,
};

function tree(lang, query) {
  const parser = PARSERS[lang];
  if (parser === undefined) return { error: `unknown lang ${JSON.stringify(lang)}` };
  const nodes = [];
  let depth = 0;
  parser.parse(query).iterate({
    enter(node) {
      nodes.push([node.type.isError ? "⚠" : node.type.name, depth, node.from, node.to]);
      depth += 1;
    },
    leave() {
      depth -= 1;
    },
  });
  return { nodes };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let result;
  try {
    const { lang, query } = JSON.parse(line);
    result = tree(lang, query);
  } catch (e) {
    result = { error: `bad input line: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}
