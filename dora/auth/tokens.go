package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"golang.org/x/time/rate"
	"gopkg.in/yaml.v3"
)

// Right is something a token allows.
type Right string

const (
	// Read allows the keys: the JSON API, /metrics and the dashboard.
	Read Right = "read"
	// Ingest allows POST /v1/events.
	Ingest Right = "ingest"
)

// AllTeams in a token's teams lets it see every team.
const AllTeams = "*"

// Defaults for a token that names no rate.
const (
	DefaultRate  = 10 // requests per second
	DefaultBurst = 20
)

// File is the tokens file:
//
//	tokens:
//	  - name: payments-dashboards      # shown in logs and errors, never the token
//	    sha256: 9f86d081884c7d65...    # hex SHA-256 of the token
//	    teams: [payments]              # to see, or send events for; ["*"] for every team
//	    rights: [read]                 # read, ingest
//	    rate: 5                        # requests per second (default 10)
//	    burst: 10                      # (default 2 × rate, at least 1)
type File struct {
	Tokens []Token `yaml:"tokens"`
}

// Token is one entry of the file.
type Token struct {
	Name   string   `yaml:"name"`
	SHA256 string   `yaml:"sha256"`
	Teams  []string `yaml:"teams"`
	Rights []Right  `yaml:"rights"`
	Rate   float64  `yaml:"rate"`
	Burst  int      `yaml:"burst"`
}

// Claims are what a request's token allows, as handlers see them.
type Claims struct {
	Name   string
	Teams  []string // nil when the token sees every team
	Rights []Right
}

// Can says whether the claims include a right.
func (c *Claims) Can(r Right) bool { return slices.Contains(c.Rights, r) }

// Sees says whether the claims allow a team.
func (c *Claims) Sees(team string) bool { return c.Teams == nil || slices.Contains(c.Teams, team) }

// Set is the tokens a server accepts, keyed by hash, each with its limiter.
type Set struct {
	byHash map[[sha256.Size]byte]*entry
	// failures bounds how fast anyone may guess: requests with a token
	// the set does not hold share one bucket.
	failures *rate.Limiter
}

// Guessing limits: unknown tokens, all callers together.
const (
	FailureRate  = 20 // per second
	FailureBurst = 100
)

type entry struct {
	claims  Claims
	limiter *rate.Limiter
}

// Hash is the hex SHA-256 of a token, as the file holds it.
func Hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Load reads a tokens file.
func Load(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return s, nil
}

// Parse reads the tokens file's content. Unknown fields, a malformed hash,
// an unknown right, a name or hash used twice, or a rate that is not
// positive are errors naming the entry.
func Parse(b []byte) (*Set, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(f.Tokens) == 0 {
		return nil, errors.New("no tokens: the file needs a tokens: list")
	}
	s := &Set{byHash: map[[sha256.Size]byte]*entry{}, failures: rate.NewLimiter(FailureRate, FailureBurst)}
	names := map[string]bool{}
	for i, t := range f.Tokens {
		e, h, err := t.entry()
		if err != nil {
			if t.Name != "" {
				return nil, fmt.Errorf("tokens[%d] (%s): %w", i, t.Name, err)
			}
			return nil, fmt.Errorf("tokens[%d]: %w", i, err)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("tokens[%d]: name %s used twice", i, t.Name)
		}
		if _, dup := s.byHash[h]; dup {
			return nil, fmt.Errorf("tokens[%d] (%s): the same sha256 as another token", i, t.Name)
		}
		names[t.Name] = true
		s.byHash[h] = e
	}
	return s, nil
}

func (t Token) entry() (*entry, [sha256.Size]byte, error) {
	var h [sha256.Size]byte
	if strings.TrimSpace(t.Name) == "" {
		return nil, h, errors.New("name: required")
	}
	raw, err := hex.DecodeString(t.SHA256)
	if err != nil || len(raw) != sha256.Size {
		return nil, h, errors.New("sha256: want the 64 hex digits of the token's SHA-256 (sha256sum), not the token")
	}
	copy(h[:], raw)
	if len(t.Rights) == 0 {
		return nil, h, errors.New("rights: required (read, ingest)")
	}
	for _, r := range t.Rights {
		if r != Read && r != Ingest {
			return nil, h, fmt.Errorf("rights: unknown right %q (want read or ingest)", r)
		}
	}
	var teams []string
	switch {
	case slices.Contains(t.Teams, AllTeams):
		if len(t.Teams) != 1 {
			return nil, h, errors.New(`teams: "*" (every team) stands alone`)
		}
	case len(t.Teams) == 0:
		return nil, h, errors.New(`teams: required: the teams the token may see or send events for ("*" for every team)`)
	default:
		teams = []string{}
		for _, team := range t.Teams {
			if strings.TrimSpace(team) == "" {
				return nil, h, errors.New("teams: empty team name")
			}
			teams = append(teams, team)
		}
	}
	r, burst := t.Rate, t.Burst
	if r == 0 {
		r = DefaultRate
	}
	if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, h, fmt.Errorf("rate: %v requests per second must be positive", t.Rate)
	}
	if burst < 0 {
		return nil, h, fmt.Errorf("burst: %d must be positive", burst)
	}
	if burst == 0 {
		burst = max(1, int(min(2*r, 1e6)))
	}
	return &entry{
		claims:  Claims{Name: t.Name, Teams: teams, Rights: slices.Clone(t.Rights)},
		limiter: rate.NewLimiter(rate.Limit(r), burst),
	}, h, nil
}
