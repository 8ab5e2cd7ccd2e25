package sign

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
)

func TestIndexAndVerify(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	ref, idx := pushIndex(t, host, "team/svc")
	kp := newKeyPair(t, "correct horse")
	s := loadKey(t, kp)

	sigs, err := Index(ctx, ref, s)
	if err != nil {
		t.Fatal(err)
	}
	subjects := append([]name.Digest{ref}, manifests(t, ref, idx)...)
	if len(sigs) != len(subjects) {
		t.Fatalf("Index returned %d signatures, want %d (index + manifests)", len(sigs), len(subjects))
	}
	for i, d := range subjects {
		want := host + "/team/svc:" + strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig"
		if sigs[i].Subject != d.DigestStr() || sigs[i].Ref != want {
			t.Errorf("signature %d = %+v, want subject %s ref %s", i, sigs[i], d.DigestStr(), want)
		}
		got, err := Verify(ctx, d, Policy{Key: kp.Pub})
		if err != nil {
			t.Fatalf("Verify %s: %v", d, err)
		}
		if len(got) != 1 {
			t.Errorf("Verify %s: %d signatures, want 1", d, len(got))
		}
	}

	other := newKeyPair(t, "other")
	if _, err := Verify(ctx, ref, Policy{Key: other.Pub}); err == nil {
		t.Error("Verify with another key succeeded")
	}
	unsigned, _ := pushIndex(t, host, "team/svc")
	if _, err := Verify(ctx, unsigned, Policy{Key: kp.Pub}); err == nil {
		t.Error("Verify of an unsigned index succeeded")
	}

	// Signing again with the same key adds nothing; another signer appends.
	if _, err := Index(ctx, ref, s); err != nil {
		t.Fatal(err)
	}
	if n := sigLayers(t, ref); n != 1 {
		t.Fatalf("after re-signing: %d signatures, want 1", n)
	}
	if _, err := Index(ctx, ref, loadKey(t, other)); err != nil {
		t.Fatal(err)
	}
	if n := sigLayers(t, ref); n != 2 {
		t.Fatalf("after a second signer: %d signatures, want 2", n)
	}
	for _, k := range []keyPair{kp, other} {
		if _, err := Verify(ctx, ref, Policy{Key: k.Pub}); err != nil {
			t.Errorf("after a second signer, Verify: %v", err)
		}
	}

	// The image itself was not rewritten.
	if got, err := remote.Index(ref); err != nil {
		t.Fatal(err)
	} else if d, _ := got.Digest(); d.String() != ref.DigestStr() {
		t.Errorf("index digest changed to %s", d)
	}
}

func TestVerifyTampered(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	ref, _ := pushIndex(t, host, "team/svc")
	kp := newKeyPair(t, "pw")
	if _, err := Index(ctx, ref, loadKey(t, kp)); err != nil {
		t.Fatal(err)
	}
	tag := sigTag(t, ref)
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("signature", func(t *testing.T) {
		// Flip a byte of the signature annotation.
		ann := m.Layers[0].Annotations["dev.cosignproject.cosign/signature"]
		raw, err := base64.StdEncoding.DecodeString(ann)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)/2] ^= 0xff
		m2 := m.DeepCopy()
		m2.Layers[0].Annotations["dev.cosignproject.cosign/signature"] = base64.StdEncoding.EncodeToString(raw)
		putManifest(t, tag, m2)
		if _, err := Verify(ctx, ref, Policy{Key: kp.Pub}); err == nil {
			t.Error("Verify accepted a tampered signature")
		}
	})
	t.Run("payload", func(t *testing.T) {
		// Point the signature at a payload naming another image.
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Replace(readLayer(t, layers[0]), ref.DigestStr()[7:15], "00000000", 1)
		img2, err := mutate.Append(mutate.MediaType(mutate.ConfigMediaType(emptyImage(), types.MediaType(m.Config.MediaType)), m.MediaType),
			mutate.Addendum{Layer: staticLayer(body, m.Layers[0].MediaType), Annotations: m.Layers[0].Annotations})
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, img2); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(ctx, ref, Policy{Key: kp.Pub}); err == nil {
			t.Error("Verify accepted a tampered payload")
		}
	})
}

// sigTag is where cosign stores ref's signatures.
func sigTag(t *testing.T, ref name.Digest) name.Tag {
	t.Helper()
	tag, err := ociremote.SignatureTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// sigLayers counts the signatures stored for ref.
func sigLayers(t *testing.T, ref name.Digest) int {
	t.Helper()
	img, err := remote.Image(sigTag(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Layers)
}

func putManifest(t *testing.T, tag name.Tag, m *v1.Manifest) {
	t.Helper()
	if err := remote.Put(tag, rawManifest{m}); err != nil {
		t.Fatal(err)
	}
}
