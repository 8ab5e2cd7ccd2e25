package static

import (
	"strconv"
	"strings"
)

// Encodings the server serves from precompressed siblings, in order of
// preference when the client accepts both equally: brotli is smaller.
var encodings = []struct{ name, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// accepted parses an Accept-Encoding header (RFC 9110, section 12.5.3) into
// the q-value of each coding the client named; "*" stands for the others.
// A malformed element is ignored, as the RFC lets a server do; a q of 0
// means "not acceptable".
func accepted(header string) map[string]float64 {
	q := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
				continue
			}
			w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || w < 0 || w > 1 {
				weight = -1
				break
			}
			weight = w
		}
		if weight < 0 {
			continue
		}
		if old, ok := q[coding]; !ok || weight > old {
			q[coding] = weight
		}
	}
	return q
}

// preferred returns the encodings the client accepts, best first, among
// those the server has (available reports a sibling's existence).
func preferred(header string, available func(suffix string) bool) (name, suffix string) {
	if header == "" {
		return "", ""
	}
	q := accepted(header)
	star, hasStar := q["*"]
	best := 0.0
	for _, e := range encodings {
		w, ok := q[e.name]
		if !ok && e.name == "gzip" {
			w, ok = q["x-gzip"]
		}
		if !ok && hasStar {
			w, ok = star, true
		}
		if !ok || w <= best || !available(e.suffix) {
			continue
		}
		best, name, suffix = w, e.name, e.suffix
	}
	return name, suffix
}
