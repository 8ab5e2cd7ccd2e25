package pipelines

import (
	"fmt"
	"regexp"
)

// PromoteConfig is the promote: section of paved.yaml: what paved promote
// of the service needs to know about its GitOps overlay.
type PromoteConfig struct {
	// OverlayImage is --overlay-image: in a kustomization, the image name
	// the bases' workloads use, which the images: entry matches (needed
	// only when the bases run several images); in Helm values, the path
	// of the image.
	OverlayImage string `yaml:"overlayImage"`
}

// overlayImageRE accepts an image name without tag or digest (app,
// ghcr.io/acme/api, localhost:5000/api) or a dotted values path.
var overlayImageRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)

func (p PromoteConfig) validate() error {
	if p.OverlayImage != "" && (!overlayImageRE.MatchString(p.OverlayImage) || len(p.OverlayImage) > 255) {
		return &ConfigError{Field: ConfigFile + ": promote.overlayImage", Msg: fmt.Sprintf("%q is neither an image name without tag or digest (app, ghcr.io/acme/api) nor a values path (image, api.image)", p.OverlayImage)}
	}
	return nil
}
