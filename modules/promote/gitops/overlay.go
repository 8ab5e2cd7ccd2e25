package gitops

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is an overlay file's format.
type Kind string

const (
	Kustomize  Kind = "kustomize" // a kustomization file's images: list
	HelmValues Kind = "helm"      // a Helm values file
)

// DetectKind is Kustomize for the file names kustomize reads
// (kustomization.yaml, kustomization.yml, Kustomization) and HelmValues
// for anything else.
func DetectKind(file string) Kind {
	if isKustomization(file) {
		return Kustomize
	}
	return HelmValues
}

// SetImage pins img in an overlay file of the given kind: the Kustomize
// images: entry named name (see SetKustomizeImage), or the Helm values at
// path name (see SetHelmImage).
func SetImage(data []byte, kind Kind, name string, img Image) (*Edit, error) {
	switch kind {
	case Kustomize:
		return SetKustomizeImage(data, name, img)
	case HelmValues:
		return SetHelmImage(data, name, img)
	}
	return nil, fmt.Errorf("unknown overlay kind %q (want %s or %s)", kind, Kustomize, HelmValues)
}

// kustomizationNames are the file names kustomize reads.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomization(path string) bool {
	return slices.Contains(kustomizationNames, path[strings.LastIndexAny(path, `/\`)+1:])
}
