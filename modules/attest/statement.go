package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// StatementType is the in-toto Statement v1 type URI.
const StatementType = intoto.StatementTypeUri

// statementTypeV01 is the earlier version's type, read but never written.
const statementTypeV01 = "https://in-toto.io/Statement/v0.1"

// Predicate types paved attaches.
const (
	SLSAProvenance = "https://slsa.dev/provenance/v1"
	SPDX           = "https://spdx.dev/Document"
	CycloneDX      = "https://cyclonedx.org/bom"
)

// Subject is an artifact a statement is about.
type Subject struct {
	Name   string
	Digest v1.Hash
}

// Statement is an in-toto Statement v1. It marshals to the standard JSON
// ({"_type", "subject", "predicateType", "predicate"}).
type Statement struct {
	Subject       []Subject
	PredicateType string
	Predicate     json.RawMessage
}

// Predicate wraps predicate, a JSON object, in a Statement about subject.
func Predicate(subject []Subject, predicateType string, predicate json.RawMessage) (*Statement, error) {
	st := &Statement{Subject: subject, PredicateType: predicateType, Predicate: predicate}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return st, nil
}

type jsonSubject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

type jsonStatement struct {
	Type          string          `json:"_type"`
	Subject       []jsonSubject   `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// MarshalJSON encodes the statement in the in-toto JSON form.
func (s *Statement) MarshalJSON() ([]byte, error) {
	js := jsonStatement{Type: StatementType, PredicateType: s.PredicateType, Predicate: s.Predicate}
	for _, sub := range s.Subject {
		js.Subject = append(js.Subject, jsonSubject{Name: sub.Name, Digest: map[string]string{sub.Digest.Algorithm: sub.Digest.Hex}})
	}
	return json.Marshal(js)
}

// UnmarshalJSON decodes an in-toto Statement v1, or v0.1, which the cosign
// CLI still writes and which has the same fields. Subjects without a sha256
// digest are refused: paved's subjects are OCI manifests.
func (s *Statement) UnmarshalJSON(b []byte) error {
	var js jsonStatement
	if err := json.Unmarshal(b, &js); err != nil {
		return fmt.Errorf("in-toto statement: %w", err)
	}
	if js.Type != StatementType && js.Type != statementTypeV01 {
		return fmt.Errorf("in-toto statement: type %q, want %q", js.Type, StatementType)
	}
	out := Statement{PredicateType: js.PredicateType, Predicate: js.Predicate}
	for _, sub := range js.Subject {
		hex, ok := sub.Digest["sha256"]
		if !ok {
			return fmt.Errorf("in-toto statement: subject %q has no sha256 digest", sub.Name)
		}
		h, err := v1.NewHash("sha256:" + hex)
		if err != nil {
			return fmt.Errorf("in-toto statement: subject %q: %w", sub.Name, err)
		}
		out.Subject = append(out.Subject, Subject{Name: sub.Name, Digest: h})
	}
	*s = out
	return nil
}

// Validate checks s with the in-toto attestation library: a Statement v1,
// at least one subject with a digest, a predicate type and an object
// predicate. SLSA provenance predicates are validated as such.
func (s *Statement) Validate() error {
	if len(bytes.TrimSpace(s.Predicate)) == 0 {
		return errors.New("in-toto statement: predicate required")
	}
	for _, sub := range s.Subject {
		if sub.Digest.Algorithm != "sha256" {
			return fmt.Errorf("in-toto statement: subject %q: digest %q is not sha256", sub.Name, sub.Digest)
		}
	}
	b, err := s.MarshalJSON()
	if err != nil {
		return fmt.Errorf("in-toto statement: %w", err)
	}
	var pb intoto.Statement
	if err := protojson.Unmarshal(b, &pb); err != nil {
		return fmt.Errorf("in-toto statement: %w", err)
	}
	if err := pb.Validate(); err != nil {
		return fmt.Errorf("in-toto statement: %w", err)
	}
	if s.PredicateType == SLSAProvenance {
		if _, err := parseProvenance(s.Predicate); err != nil {
			return err
		}
	}
	return nil
}
