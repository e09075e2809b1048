//go:build tools

// Package tools pins Prometheus 3 for `go build ./cmd/...`-style builds: Prometheus's go.mod has replace and
// exclude directives, so `go install module@version` refuses it; requiring it from this module works.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
