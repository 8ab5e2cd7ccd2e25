// Package version describes the build of the running binary.
package version

import "runtime"

// Info is the build information reported by GET /version.
type Info struct {
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns build information for the given version string.
// An empty version is reported as "dev".
func Get(v string) Info {
	if v == "" {
		v = "dev"
	}
	return Info{
		Version:   v,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}
