package attest

import (
	"encoding/json"
	"fmt"
	"time"

	prov "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ProvenanceInput describes a build for a SLSA provenance v1 predicate.
type ProvenanceInput struct {
	BuilderID      string            // URI of the build platform
	BuilderVersion map[string]string // e.g. {"paved": "v0.1.0"}
	BuildType      string            // URI of the build's template
	// External are the parameters the user controlled (source repo, ref,
	// pipeline, platforms); Internal those the platform set.
	External, Internal map[string]any
	// Dependencies are the resolved inputs: source commit, base image,
	// toolchain.
	Dependencies          []Dependency
	InvocationID          string
	StartedOn, FinishedOn time.Time
	Byproducts            []Dependency
}

// Dependency is an in-toto resource descriptor: an artifact by URI and
// digest, e.g. {URI: "git+https://host/repo@refs/heads/main", Digest:
// {"gitCommit": "<sha1>"}}.
type Dependency struct {
	Name, URI string
	Digest    map[string]string
}

// Provenance builds a Statement about subject with a SLSA provenance v1
// predicate, validated by the in-toto attestation library.
func Provenance(subject []Subject, in ProvenanceInput) (*Statement, error) {
	ext, err := toStruct(in.External)
	if err != nil {
		return nil, fmt.Errorf("provenance: externalParameters: %w", err)
	}
	var internal *structpb.Struct
	if len(in.Internal) > 0 {
		if internal, err = toStruct(in.Internal); err != nil {
			return nil, fmt.Errorf("provenance: internalParameters: %w", err)
		}
	}
	p := &prov.Provenance{
		BuildDefinition: &prov.BuildDefinition{
			BuildType:            in.BuildType,
			ExternalParameters:   ext,
			InternalParameters:   internal,
			ResolvedDependencies: descriptors(in.Dependencies),
		},
		RunDetails: &prov.RunDetails{
			Builder:    &prov.Builder{Id: in.BuilderID, Version: in.BuilderVersion},
			Byproducts: descriptors(in.Byproducts),
		},
	}
	if in.InvocationID != "" || !in.StartedOn.IsZero() || !in.FinishedOn.IsZero() {
		m := &prov.BuildMetadata{InvocationId: in.InvocationID}
		if !in.StartedOn.IsZero() {
			m.StartedOn = timestamppb.New(in.StartedOn)
		}
		if !in.FinishedOn.IsZero() {
			m.FinishedOn = timestamppb.New(in.FinishedOn)
		}
		p.RunDetails.Metadata = m
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	b, err := protojson.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	// protojson varies its whitespace on purpose; re-encode for stable bytes.
	var pred json.RawMessage
	if err := json.Unmarshal(b, &pred); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	compact, err := json.Marshal(pred)
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	return Predicate(subject, SLSAProvenance, compact)
}

// parseProvenance decodes and validates a SLSA provenance v1 predicate.
func parseProvenance(b []byte) (*prov.Provenance, error) {
	var p prov.Provenance
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("provenance predicate: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("provenance predicate: %w", err)
	}
	return &p, nil
}

func descriptors(deps []Dependency) []*intoto.ResourceDescriptor {
	var out []*intoto.ResourceDescriptor
	for _, d := range deps {
		out = append(out, &intoto.ResourceDescriptor{Name: d.Name, Uri: d.URI, Digest: d.Digest})
	}
	return out
}

// toStruct converts m through JSON, so any JSON-encodable value (slices of
// strings, structs) is accepted, not only structpb's own types.
func toStruct(m map[string]any) (*structpb.Struct, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
