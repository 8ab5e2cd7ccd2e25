package sbom

import (
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/spdx/tools-golang/json"
)
