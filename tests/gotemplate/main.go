// Command gotemplate expands Go text/template texts the way Prometheus expands alert annotations and
// labels (text/template, missingkey=zero), for tests/test_escape_sinks.py.
//
// stdin: one JSON string a line (a template text). stdout: one JSON object a line, in order:
// {"out": "..."} with the expansion (data: an empty map), or {"error": "..."} when it does not parse
// or execute. Only the standard library: it builds offline.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type result struct {
	Out   *string `json:"out,omitempty"`
	Error string  `json:"error,omitempty"`
}

func expand(text string) result {
	tmpl, err := template.New("annotation").Option("missingkey=zero").Parse(text)
	if err != nil {
		return result{Error: err.Error()}
	}
	var sb strings.Builder
	if err := tmpl.Execute(&sb, map[string]any{}); err != nil {
		return result{Error: err.Error()}
	}
	out := sb.String()
	return result{Out: &out}
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var text string
		if err := json.Unmarshal(in.Bytes(), &text); err != nil {
			_ = enc.Encode(result{Error: "bad input line: " + err.Error()})
			continue
		}
		_ = enc.Encode(expand(text))
	}
}
