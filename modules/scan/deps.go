package scan

import (
	_ "github.com/aquasecurity/trivy-db/pkg/db"
	_ "github.com/aquasecurity/trivy-db/pkg/metadata"
	_ "github.com/aquasecurity/trivy/pkg/commands"
	_ "golang.org/x/vuln/scan"
)
