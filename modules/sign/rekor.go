package sign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	cbundle "github.com/sigstore/cosign/v3/pkg/cosign/bundle"
	"github.com/sigstore/rekor/pkg/client"
	genclient "github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/pki"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/types/dsse"
	"github.com/sigstore/rekor/pkg/types/hashedrekord"

	// Entry kinds paved proposes: hashedrekord for signatures, dsse for
	// attestations.
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
)

// rekorLog records signatures in a Rekor (v1 API) transparency log.
type rekorLog struct {
	url    string
	client *genclient.Rekor
}

func newRekorLog(url string) (*rekorLog, error) {
	c, err := client.GetRekorClient(url, client.WithRetryCount(2))
	if err != nil {
		return nil, fmt.Errorf("rekor %s: %w", url, err)
	}
	return &rekorLog{url: url, client: c}, nil
}

// recordSignature logs sig over payload, made by the key in certPEM, as a
// hashedrekord entry.
func (r *rekorLog) recordSignature(ctx context.Context, payload, sig, certPEM []byte) (*cbundle.RekorBundle, error) {
	sum := sha256.Sum256(payload)
	pe, err := hashedrekord.New().CreateProposedEntry(ctx, "", types.ArtifactProperties{
		ArtifactHash:   "sha256:" + hex.EncodeToString(sum[:]),
		SignatureBytes: sig,
		PublicKeyBytes: [][]byte{certPEM},
		PKIFormat:      string(pki.X509),
	})
	if err != nil {
		return nil, fmt.Errorf("rekor %s: %w", r.url, err)
	}
	return r.record(ctx, pe)
}

// recordEnvelope logs a DSSE envelope signed by the key in certPEM as a
// dsse entry.
func (r *rekorLog) recordEnvelope(ctx context.Context, envelope, certPEM []byte) (*cbundle.RekorBundle, error) {
	pe, err := dsse.New().CreateProposedEntry(ctx, "", types.ArtifactProperties{
		ArtifactBytes:  envelope,
		PublicKeyBytes: [][]byte{certPEM},
	})
	if err != nil {
		return nil, fmt.Errorf("rekor %s: %w", r.url, err)
	}
	return r.record(ctx, pe)
}

func (r *rekorLog) record(ctx context.Context, pe models.ProposedEntry) (*cbundle.RekorBundle, error) {
	params := entries.NewCreateLogEntryParamsWithContext(ctx).WithProposedEntry(pe)
	resp, err := r.client.Entries.CreateLogEntry(params)
	if err != nil {
		return nil, fmt.Errorf("rekor %s: upload: %w", r.url, err)
	}
	e, ok := resp.Payload[resp.ETag]
	if !ok && len(resp.Payload) == 1 {
		for _, v := range resp.Payload {
			e = v
		}
	} else if !ok {
		return nil, fmt.Errorf("rekor %s: response holds no entry %q", r.url, resp.ETag)
	}
	if e.Verification == nil || e.Verification.SignedEntryTimestamp == nil ||
		e.IntegratedTime == nil || e.LogIndex == nil || e.LogID == nil {
		return nil, fmt.Errorf("rekor %s: %w", r.url, errors.New("entry has no signed entry timestamp"))
	}
	// The bundle lets verifiers check the entry offline.
	return &cbundle.RekorBundle{
		SignedEntryTimestamp: e.Verification.SignedEntryTimestamp,
		Payload: cbundle.RekorPayload{
			Body:           e.Body,
			IntegratedTime: *e.IntegratedTime,
			LogIndex:       *e.LogIndex,
			LogID:          *e.LogID,
		},
	}, nil
}
