package sbom

// Placeholder imports pinning the module's dependencies until the code lands.
import (
	_ "github.com/anchore/syft/syft"
	_ "github.com/anchore/syft/syft/format/cyclonedxjson"
	_ "github.com/anchore/syft/syft/format/spdxjson"
	_ "modernc.org/sqlite"
)
