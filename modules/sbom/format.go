package sbom

import (
	"fmt"
	"strings"
)

// Format is an SBOM document format.
type Format string

const (
	SPDXJSON      Format = "spdx-json"      // SPDX 2.3 JSON
	CycloneDXJSON Format = "cyclonedx-json" // CycloneDX 1.6 JSON
)

// Formats are written when a call names none.
var Formats = []Format{SPDXJSON, CycloneDXJSON}

// PredicateType is the in-toto predicate type for attaching a document of
// this format, or "" for an unknown format.
func (f Format) PredicateType() string {
	switch f {
	case SPDXJSON:
		return "https://spdx.dev/Document"
	case CycloneDXJSON:
		return "https://cyclonedx.org/bom"
	}
	return ""
}

// MediaType is the media type of a document of this format, or "" for an
// unknown format.
func (f Format) MediaType() string {
	switch f {
	case SPDXJSON:
		return "application/spdx+json"
	case CycloneDXJSON:
		return "application/vnd.cyclonedx+json"
	}
	return ""
}

// Ext is the file name suffix of a document of this format.
func (f Format) Ext() string {
	switch f {
	case SPDXJSON:
		return ".spdx.json"
	case CycloneDXJSON:
		return ".cdx.json"
	}
	return ""
}

// ParseFormat reads a format name as users write it: "spdx-json",
// "cyclonedx-json", or the short forms "spdx" and "cyclonedx" (or "cdx"),
// in any case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "spdx-json", "spdx", "spdx-2.3", "spdx-json@2.3":
		return SPDXJSON, nil
	case "cyclonedx-json", "cyclonedx", "cdx", "cdx-json":
		return CycloneDXJSON, nil
	}
	return "", fmt.Errorf("unknown SBOM format %q (want %q or %q)", s, SPDXJSON, CycloneDXJSON)
}

// checkFormats returns the formats to write: Formats when none are given.
// Unknown and repeated formats are errors, so two documents never share a
// file.
func checkFormats(fs []Format) ([]Format, error) {
	if len(fs) == 0 {
		return Formats, nil
	}
	seen := make(map[Format]bool, len(fs))
	for _, f := range fs {
		if f.PredicateType() == "" {
			return nil, fmt.Errorf("unknown SBOM format %q", f)
		}
		if seen[f] {
			return nil, fmt.Errorf("SBOM format %q given twice", f)
		}
		seen[f] = true
	}
	return fs, nil
}
