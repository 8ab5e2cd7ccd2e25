// Package sbom writes software bills of materials for built images and for
// service sources, with Syft as a library.
//
// Image describes one platform's image, Index every platform of an index,
// and Source a source directory; each writes one document per Format (SPDX
// 2.3 JSON, CycloneDX 1.6 JSON) and returns it as a Document with its digest,
// ready to be attached with Format.PredicateType. Go binaries contribute the
// modules recorded in their build info, with purls such as
// pkg:golang/github.com/go-chi/chi/v5@v5.5.0; a source contributes the
// modules its go.mod requires.
//
// Cataloging is offline: no registry, no module proxy, no license lookups,
// no go command. Syft's logger and event bus are left unset, so nothing is
// printed. The documents are reproducible: their creation time is the image
// config's (for a source, the time given to SourceAt, else
// SOURCE_DATE_EPOCH), and the SPDX namespace and CycloneDX serial number are
// derived from the content instead of being random. Only a source document
// made without a time is stamped with the current time.
package sbom
