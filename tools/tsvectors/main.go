// Command tsvectors prints test vectors for obsgen's probabilistic tail-sampling policy: the trace ids of
// upstream's TestProbabilisticSampling (contrib processor/tailsamplingprocessor v0.159.0,
// internal/sampling/probabilistic_test.go genRandomTraceIDs: math/rand/v2 PCG seeded 123, 456) and how many of
// them each of its cases samples, computed the way probabilistic.go does (FNV-1a 64 of salt then trace id,
// against MaxUint64 x ratio in a big.Float). Standard library only; written from those semantics.
package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
)

func threshold(ratio float64) uint64 {
	boundary := new(big.Float).SetInt(new(big.Int).SetUint64(math.MaxUint64))
	res, _ := boundary.Mul(boundary, big.NewFloat(ratio)).Uint64()
	return res
}

func hashID(salt string, id []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(salt))
	_, _ = h.Write(id)
	return h.Sum64()
}

type sample struct {
	TraceID string            `json:"trace_id"`
	Hashes  map[string]string `json:"hashes"`
}

type testCase struct {
	Name       string  `json:"name"`
	Percentage float64 `json:"percentage"`
	Salt       string  `json:"salt"`
	Expected   float64 `json:"expected_percentage"`
	Sampled    int     `json:"sampled"`
}

func main() {
	r := rand.New(rand.NewPCG(123, 456))
	ids := make([][]byte, 100_000)
	for i := range ids {
		id := make([]byte, 16)
		binary.BigEndian.PutUint64(id[:8], r.Uint64())
		binary.BigEndian.PutUint64(id[8:], r.Uint64())
		ids[i] = id
	}
	salts := []string{"default-hash-seed", "test-salt", "brazil"}
	samples := []sample{}
	for _, id := range ids[:20] {
		hashes := map[string]string{}
		for _, salt := range salts {
			hashes[salt] = hex.EncodeToString(binary.BigEndian.AppendUint64(nil, hashID(salt, id)))
		}
		samples = append(samples, sample{hex.EncodeToString(id), hashes})
	}
	// The cases of TestProbabilisticSampling; an empty salt is the default one (NewProbabilisticSampler).
	cases := []testCase{
		{"100%", 100, "", 100, 0}, {"0%", 0, "", 0, 0}, {"25%", 25, "", 25, 0}, {"33%", 33, "", 33, 0},
		{"33% - custom salt", 33, "test-salt", 33, 0}, {"-%50", -50, "", 0, 0}, {"150%", 150, "", 100, 0},
	}
	for i := range cases {
		salt := cases[i].Salt
		if salt == "" {
			salt = "default-hash-seed"
		}
		th := threshold(cases[i].Percentage / 100)
		for _, id := range ids {
			if hashID(salt, id) <= th {
				cases[i].Sampled++
			}
		}
	}
	thresholds := map[string]string{}
	for _, p := range []float64{-50, 0, 0.001, 1, 10, 25, 33, 33.3333, 50, 99.9, 100, 150} {
		thresholds[big.NewFloat(p).Text('g', -1)] = hex.EncodeToString(binary.BigEndian.AppendUint64(nil, threshold(p/100)))
	}
	out := map[string]any{"ids": len(ids), "samples": samples, "cases": cases, "thresholds": thresholds}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
