package scan

import (
	"log/slog"

	tlog "github.com/aquasecurity/trivy/pkg/log"
)

// quietTrivy silences Trivy. Trivy logs through slog's default logger and,
// when linked, installs one that buffers every record in memory until a
// CLI configures logging; a library must neither print nor grow without
// bound, so that buffer is replaced by a discarding logger. A logger the
// program set itself is left alone.
func quietTrivy() {
	if _, ok := slog.Default().Handler().(*tlog.DeferredHandler); ok {
		tlog.InitLogger(false, true)
	}
}

func init() { quietTrivy() }
