// Command gocheck answers, for each regular expression it reads, whether Go's regexp.Compile accepts it.
//
// It is the oracle of obsgen's differential regex test (tests/test_go_regexp_differential.py): the
// Collector and Prometheus compile their regexes with this very function, so obsgen's checker is
// proven against it rather than against documentation.
//
// Input: JSON lines on stdin, each {"pattern": "..."} or, for byte strings that are not valid UTF-8
// (which JSON cannot carry), {"hex": "..."}. Output: one JSON line per input line, in order,
// {"ok": true} or {"ok": false, "error": "<regexp.Compile's error text>"}.
//
// `gocheck -unicode-names` prints instead the keys of the unicode tables regexp/syntax looks \p{Name}
// up in (unicodeTable in src/regexp/syntax/parse.go), which obsgen's checker carries as data.
// `gocheck -version` prints the Go release it was built with.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"unicode"
)

type request struct {
	Pattern *string `json:"pattern"`
	Hex     *string `json:"hex"`
}

type answer struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-version" {
		fmt.Println(runtime.Version())
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "-unicode-names" {
		names := map[string][]string{
			"version":          {unicode.Version},
			"categories":       keys(unicode.Categories),
			"scripts":          keys(unicode.Scripts),
			"category_aliases": keys(unicode.CategoryAliases),
		}
		if err := json.NewEncoder(os.Stdout).Encode(names); err != nil {
			fail(err.Error())
		}
		return
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for line := 1; in.Scan(); line++ {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fail(fmt.Sprintf("line %d: %v", line, err))
		}
		var pattern string
		switch {
		case req.Pattern != nil:
			pattern = *req.Pattern
		case req.Hex != nil:
			raw, err := hex.DecodeString(*req.Hex)
			if err != nil {
				fail(fmt.Sprintf("line %d: %v", line, err))
			}
			pattern = string(raw)
		default:
			fail(fmt.Sprintf("line %d: neither \"pattern\" nor \"hex\"", line))
		}
		res := answer{OK: true}
		if _, err := regexp.Compile(pattern); err != nil {
			res = answer{OK: false, Error: err.Error()}
		}
		if err := enc.Encode(res); err != nil {
			fail(err.Error())
		}
	}
	if err := in.Err(); err != nil {
		fail(err.Error())
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "gocheck:", msg)
	os.Exit(2)
}
