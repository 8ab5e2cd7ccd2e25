package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// Annotation keys paved sets on every manifest and index it builds.
const (
	AnnotationCreated    = "org.opencontainers.image.created"
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// AppDir is where the service binary lives in the image.
const AppDir = "/app"

// Go cross-compiles the service for every platform (concurrently, no
// emulation) and returns an OCI image index with one image per platform, in
// the order of opts.Platforms. The same source, toolchain, base and options
// give the same index digest.
func Go(ctx context.Context, opts Options) (v1.ImageIndex, error) {
	o, err := opts.withDefaults(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range o.Platforms {
		if p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("platform %q: os and architecture are required", p.String())
		}
		if seen[p.String()] {
			return nil, fmt.Errorf("platform %s listed twice", p.String())
		}
		seen[p.String()] = true
	}
	baseDigest, err := o.Base.Digest(ctx)
	if err != nil {
		return nil, err
	}
	static, err := staticLayer(&o)
	if err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp("", "paved-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	imgs := make([]v1.Image, len(o.Platforms))
	g, gctx := errgroup.WithContext(ctx)
	// others closes when every platform but the host's has compiled.
	var compiling sync.WaitGroup
	others := make(chan struct{})
	for _, p := range o.Platforms {
		if !o.HostLast || !IsHost(p) {
			compiling.Add(1)
		}
	}
	go func() { compiling.Wait(); close(others) }()
	for i, p := range o.Platforms {
		last := o.HostLast && IsHost(p)
		g.Go(func() error {
			compiled := func() {}
			if last {
				select {
				case <-others:
				case <-gctx.Done():
					return gctx.Err()
				}
			} else {
				var once sync.Once
				compiled = func() { once.Do(compiling.Done) }
				defer compiled()
			}
			dir := filepath.Join(tmp, strconv.Itoa(i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			img, err := image(ctx, gctx, o, p, dir, static, compiled)
			imgs[i] = img
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	adds := make([]mutate.IndexAddendum, len(imgs))
	for i, img := range imgs {
		p := o.Platforms[i]
		adds[i] = mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &p},
		}
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, annotations(o, baseDigest)).(v1.ImageIndex), nil
}

// staticLayer is the layer of the service's static files, the same for
// every platform; nil when there are none. It also notes in o whether a
// kodata/ directory was laid, for KO_DATA_PATH.
func staticLayer(o *Options) (*mutate.Addendum, error) {
	files, err := StaticFiles(*o)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, nil
	}
	taken := map[string]string{}
	for _, b := range o.Binaries {
		taken[AppDir+"/"+b.Name] = "binary " + b.Name
	}
	for _, f := range files {
		for p, what := range taken {
			if within(f.Path, p) || within(p, f.Path) {
				return nil, fmt.Errorf("static file %s (from %s) is in the way of the %s, %s", f.Path, f.Source, what, p)
			}
		}
		if o.Toolchain != "" && within(f.Path, ToolchainDir) {
			return nil, fmt.Errorf("static file %s (from %s) is inside the Go toolchain's %s", f.Path, f.Source, ToolchainDir)
		}
		if strings.HasPrefix(f.Path, KoDataPath+"/") {
			o.kodata = true
		}
	}
	l, err := newLayer(staticEntries(o.Dir, files), o.Created)
	if err != nil {
		return nil, fmt.Errorf("static files layer: %w", err)
	}
	return &mutate.Addendum{Layer: l, MediaType: types.OCILayer,
		History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "paved build.Go", Comment: fmt.Sprintf("%d static files", len(files))}}, nil
}

// within reports whether p is dir or below it.
func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// IsHost reports whether p is the platform this process runs on, whose
// compiled packages a go test on this machine shares.
func IsHost(p v1.Platform) bool {
	return p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH && p.Variant == ""
}

// image builds the service image for one platform. The compile stops with
// buildCtx (when another platform fails); the base is fetched with ctx,
// because a remote base reads its layers lazily, after Go returns.
func image(ctx, buildCtx context.Context, o Options, p v1.Platform, dir string, static *mutate.Addendum, compiled func()) (v1.Image, error) {
	var adds []mutate.Addendum
	created := v1.Time{Time: o.Created}
	if o.Toolchain != "" {
		tc, err := GoToolchain(buildCtx, o.Toolchain, p, o.Env)
		if err != nil {
			return nil, err
		}
		l, err := tc.Layer(o.Created)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: types.OCILayer,
			History: v1.History{Created: created, CreatedBy: "paved build.Go", Comment: ToolchainDir + " " + tc.Module + " " + tc.Sum}})
	}
	if static != nil {
		adds = append(adds, *static)
	}
	for _, b := range o.Binaries {
		bin, err := compile(buildCtx, o, b, p, dir)
		if err != nil {
			compiled()
			return nil, err
		}
		fi, err := os.Stat(bin)
		if err != nil {
			compiled()
			return nil, err
		}
		layer, err := newLayer([]entry{{
			name: AppDir + "/" + b.Name,
			mode: 0o755,
			size: fi.Size(),
			open: func() (io.ReadCloser, error) { return os.Open(bin) },
		}}, o.Created)
		if err != nil {
			compiled()
			return nil, fmt.Errorf("layer for %s: %w", p.String(), err)
		}
		adds = append(adds, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
			History: v1.History{Created: created, CreatedBy: "paved build.Go", Comment: AppDir + "/" + b.Name}})
	}
	compiled()

	base, err := o.Base.Image(ctx, p)
	if err != nil {
		return nil, err
	}
	baseDigest, err := base.Digest()
	if err != nil {
		return nil, fmt.Errorf("base %s for %s: %w", o.Base.Name(), p.String(), err)
	}
	base, err = toOCI(base)
	if err != nil {
		return nil, fmt.Errorf("base %s for %s: %w", o.Base.Name(), p.String(), err)
	}

	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	anns := annotations(o, baseDigest)
	configure(cf, o, p, anns)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, anns).(v1.Image), nil
}

// configure sets what runs and how on top of the base's config.
func configure(cf *v1.ConfigFile, o Options, p v1.Platform, labels map[string]string) {
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if p.OSVersion != "" {
		cf.OSVersion = p.OSVersion
	}
	cf.Created = v1.Time{Time: o.Created}
	// Base history without a real time (the epoch, or none) takes Created,
	// so no timestamp in the image comes from when paved ran.
	for i, h := range cf.History {
		if h.Created.IsZero() || h.Created.Time.Equal(epoch) {
			cf.History[i].Created = v1.Time{Time: o.Created}
		}
	}
	c := &cf.Config
	c.Entrypoint = []string{AppDir + "/" + o.Entrypoint}
	c.Cmd = nil
	c.User = fmt.Sprintf("%d:%d", nonrootID, nonrootID)
	c.WorkingDir = "/"
	c.Env = withDefaultEnv(c.Env, defaultPath, "SSL_CERT_FILE="+caFile)
	if o.Toolchain != "" {
		c.Env = toolchainEnv(c.Env)
	}
	if o.kodata {
		c.Env = setEnv(c.Env, "KO_DATA_PATH="+KoDataPath)
	}
	o.Config.apply(c)
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	for k, v := range labels {
		c.Labels[k] = v
	}
}

// withDefaultEnv appends each KEY=VALUE whose key env lacks.
func withDefaultEnv(env []string, defaults ...string) []string {
	out := append([]string(nil), env...)
	for _, d := range defaults {
		key, _, _ := strings.Cut(d, "=")
		found := false
		for _, e := range env {
			if k, _, _ := strings.Cut(e, "="); k == key {
				found = true
				break
			}
		}
		if !found {
			out = append(out, d)
		}
	}
	return out
}

// annotations are the caller's annotations plus the ones paved owns, which
// win: they state facts about this build.
func annotations(o Options, baseDigest v1.Hash) map[string]string {
	return imageAnnotations(o.Annotations, o.Created, o.Base.Name(), baseDigest)
}

func imageAnnotations(extra map[string]string, created time.Time, baseName string, baseDigest v1.Hash) map[string]string {
	anns := make(map[string]string, len(extra)+3)
	for k, v := range extra {
		anns[k] = v
	}
	anns[AnnotationCreated] = created.Format(time.RFC3339)
	anns[AnnotationBaseName] = baseName
	anns[AnnotationBaseDigest] = baseDigest.String()
	return anns
}

// toOCI rewrites a Docker-media-type image with OCI media types, keeping
// its layers, config and history.
func toOCI(img v1.Image) (v1.Image, error) {
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	if mt == types.OCIManifestSchema1 {
		return img, nil
	}
	if mt != types.DockerManifestSchema2 {
		return nil, fmt.Errorf("unsupported base media type %s", mt)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if len(layers) != len(m.Layers) {
		return nil, fmt.Errorf("manifest lists %d layers, image has %d", len(m.Layers), len(layers))
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		mt := ociLayerType(m.Layers[i].MediaType)
		adds[i] = mutate.Addendum{Layer: typedLayer{l, mt}, MediaType: mt, URLs: m.Layers[i].URLs}
	}
	out := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if out, err = mutate.Append(out, adds...); err != nil {
		return nil, err
	}
	// Append adds a blank history entry per layer; put the original back.
	ocf, err := out.ConfigFile()
	if err != nil {
		return nil, err
	}
	ncf := cf.DeepCopy()
	ncf.RootFS = ocf.RootFS
	return mutate.ConfigFile(out, ncf)
}

// typedLayer is a layer under another media type; the bytes are the same.
type typedLayer struct {
	v1.Layer
	mt types.MediaType
}

func (l typedLayer) MediaType() (types.MediaType, error) { return l.mt, nil }

func ociLayerType(mt types.MediaType) types.MediaType {
	switch mt {
	case types.DockerLayer:
		return types.OCILayer
	case types.DockerUncompressedLayer:
		return types.OCIUncompressedLayer
	case types.DockerForeignLayer:
		return types.OCIRestrictedLayer
	}
	return mt
}
