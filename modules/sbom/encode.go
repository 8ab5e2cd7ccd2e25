package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/format/common/spdxhelpers"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/google/uuid"
	"github.com/spdx/tools-golang/spdx"
)

// cdxVersion is the CycloneDX version written: 1.6 is the newest that the
// usual consumers (scanners, Dependency-Track) all read.
const cdxVersion = cyclonedx.SpecVersion1_6

// idSpace names the UUIDs derived from document contents.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://paved.dev/sbom"))

// encode renders s in format f. Syft's encoders stamp the current time and
// random UUIDs; here the time is created and the identifiers are derived
// from the rest of the document, so the same input gives the same bytes.
func encode(f Format, s syftsbom.SBOM, created time.Time) ([]byte, error) {
	switch f {
	case SPDXJSON:
		return encodeSPDX(s, created)
	case CycloneDXJSON:
		return encodeCycloneDX(s, created)
	}
	return nil, fmt.Errorf("unknown SBOM format %q", f)
}

func encodeSPDX(s syftsbom.SBOM, created time.Time) ([]byte, error) {
	doc := spdxhelpers.ToFormatModel(s)
	if doc == nil || doc.CreationInfo == nil {
		return nil, fmt.Errorf("converting SBOM to SPDX: no document")
	}
	doc.CreationInfo.Created = created.UTC().Format(time.RFC3339)
	ns := doc.DocumentNamespace
	doc.DocumentNamespace = ""
	b, err := marshalSPDX(doc)
	if err != nil {
		return nil, err
	}
	doc.DocumentNamespace = namespace(ns, uuid.NewSHA1(idSpace, b))
	return marshalSPDX(doc)
}

// namespace keeps the shape of Syft's namespace (tool/kind/name-UUID) with
// the UUID replaced: the SPDX namespace must be unique per document
// version, which a digest of the document is.
func namespace(syftNS string, id uuid.UUID) string {
	kind, name := "unknown-source-type", ""
	if u, err := url.Parse(syftNS); err == nil {
		// path is /<tool>/<kind>/[<name>-]<uuid>
		parts := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 3)
		if len(parts) == 3 {
			kind = parts[1]
			if n := len(parts[2]) - 37; n > 0 && parts[2][n] == '-' {
				name = parts[2][:n]
			}
		}
	}
	leaf := id.String()
	if name != "" {
		leaf = name + "-" + leaf
	}
	u := url.URL{Scheme: "https", Host: "paved.dev", Path: path.Join("/spdx", kind, leaf)}
	return u.String()
}

func marshalSPDX(doc *spdx.Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding SPDX JSON: %w", err)
	}
	return buf.Bytes(), nil
}

func encodeCycloneDX(s syftsbom.SBOM, created time.Time) ([]byte, error) {
	bom := cyclonedxhelpers.ToFormatModel(s)
	if bom == nil || bom.Metadata == nil {
		return nil, fmt.Errorf("converting SBOM to CycloneDX: no document")
	}
	bom.Metadata.Timestamp = created.UTC().Format(time.RFC3339)
	bom.SerialNumber = ""
	b, err := marshalCycloneDX(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = uuid.NewSHA1(idSpace, b).URN()
	return marshalCycloneDX(bom)
}

func marshalCycloneDX(bom *cyclonedx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	enc := cyclonedx.NewBOMEncoder(&buf, cyclonedx.BOMFileFormatJSON)
	enc.SetPretty(false)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdxVersion); err != nil {
		return nil, fmt.Errorf("encoding CycloneDX JSON: %w", err)
	}
	return buf.Bytes(), nil
}
