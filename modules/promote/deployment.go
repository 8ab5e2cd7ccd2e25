package promote

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Deployment is the record of one promotion into an environment, for the
// DORA metrics: which service, which artifact, and which commits it brings
// to the environment.
type Deployment struct {
	Environment string `json:"environment"`
	Service     string `json:"service"`
	// Artifact is the package URL of the promoted image, as CDEvents'
	// service.deployed carries it.
	Artifact string `json:"artifactId"`
	Digest   string `json:"digest"`
	// Repository and Commit are the source the provenance names.
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
	// PreviousDigest is the image the overlay named before, and
	// PreviousCommit its source commit, when known.
	PreviousDigest string `json:"previousDigest,omitempty"`
	PreviousCommit string `json:"previousCommit,omitempty"`
	// Commits are the commits this deployment brings: every commit after
	// the previous deployment's, up to Commit, when a checkout of the
	// source lets paved list them; otherwise just Commit.
	Commits []string  `json:"commits,omitempty"`
	Time    time.Time `json:"time"`
}

// AppendDeployment appends d as one JSON line to the file at path, created
// if needed, and syncs it: the record survives a crash right after.
func AppendDeployment(path string, d *Deployment) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("record deployment: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("record deployment: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("record deployment in %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("record deployment in %s: %w", path, err)
	}
	return f.Close()
}
