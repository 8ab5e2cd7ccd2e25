package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-openapi/runtime"
	cbundle "github.com/sigstore/cosign/v3/pkg/cosign/bundle"
	"github.com/sigstore/rekor/pkg/client"
	genclient "github.com/sigstore/rekor/pkg/generated/client"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/pki"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/types/dsse"
	"github.com/sigstore/rekor/pkg/types/hashedrekord"
	rekorverify "github.com/sigstore/rekor/pkg/verify"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	// Entry kinds paved proposes: hashedrekord for signatures, dsse for
	// attestations.
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
)

// rekorLog records signatures in a Rekor (v1 API) transparency log and
// checks each entry it gets back against the trusted Rekor keys.
type rekorLog struct {
	url    string
	client *genclient.Rekor
	// logs are the trusted root's Rekor keys, by hex log ID.
	logs map[string]*root.TransparencyLog
	// signer is the public key every entry must name.
	signer crypto.PublicKey
}

func newRekorLog(url string, tm root.TrustedMaterial, signer crypto.PublicKey) (*rekorLog, error) {
	c, err := client.GetRekorClient(url, client.WithRetryCount(2))
	if err != nil {
		return nil, fmt.Errorf("rekor %s: %w", url, err)
	}
	return &rekorLog{url: url, client: c, logs: tm.RekorLogs(), signer: signer}, nil
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
	return r.record(ctx, pe, sum[:])
}

// recordEnvelope logs a DSSE envelope over statement, signed by the key in
// certPEM, as a dsse entry.
func (r *rekorLog) recordEnvelope(ctx context.Context, envelope, statement, certPEM []byte) (*cbundle.RekorBundle, error) {
	pe, err := dsse.New().CreateProposedEntry(ctx, "", types.ArtifactProperties{
		ArtifactBytes:  envelope,
		PublicKeyBytes: [][]byte{certPEM},
	})
	if err != nil {
		return nil, fmt.Errorf("rekor %s: %w", r.url, err)
	}
	sum := sha256.Sum256(statement)
	return r.record(ctx, pe, sum[:])
}

// record uploads pe, whose artifact hashes (SHA-256) to digest, and returns
// the bundle of the verified entry.
func (r *rekorLog) record(ctx context.Context, pe models.ProposedEntry, digest []byte) (*cbundle.RekorBundle, error) {
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
	if err := r.verifyEntry(ctx, &e, digest); err != nil {
		return nil, fmt.Errorf("rekor %s: %w", r.url, err)
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

// verifyEntry checks a new entry before paved stores it: its signed entry
// timestamp, and inclusion proof when Rekor returned one, verify against a
// trusted Rekor key valid at the entry's time, and it records the artifact
// digest signed by r.signer.
func (r *rekorLog) verifyEntry(ctx context.Context, e *models.LogEntryAnon, digest []byte) error {
	if e.Verification == nil || len(e.Verification.SignedEntryTimestamp) == 0 ||
		e.IntegratedTime == nil || e.LogIndex == nil || e.LogID == nil {
		return errors.New("entry has no signed entry timestamp")
	}
	body, ok := e.Body.(string)
	if !ok {
		return fmt.Errorf("entry body is a %T, not a string", e.Body)
	}
	tl, ok := r.logs[*e.LogID]
	if !ok {
		return fmt.Errorf("%w: the trusted root has no log %q", ErrEntrySET, *e.LogID)
	}
	at := time.Unix(*e.IntegratedTime, 0)
	if at.Before(tl.ValidityPeriodStart) || (!tl.ValidityPeriodEnd.IsZero() && at.After(tl.ValidityPeriodEnd)) {
		return fmt.Errorf("%w: the log's key is not valid at the entry's time %s", ErrEntrySET, at.UTC().Format(time.RFC3339))
	}
	hf := tl.SignatureHashFunc
	if hf == 0 {
		hf = crypto.SHA256
	}
	v, err := signature.LoadVerifier(tl.PublicKey, hf)
	if err != nil {
		return fmt.Errorf("trusted Rekor key %q: %w", *e.LogID, err)
	}
	if err := rekorverify.VerifySignedEntryTimestamp(ctx, e, v); err != nil {
		return fmt.Errorf("%w: %w", ErrEntrySET, err)
	}
	if p := e.Verification.InclusionProof; p != nil {
		if p.Checkpoint == nil || p.RootHash == nil || p.LogIndex == nil || p.TreeSize == nil {
			return fmt.Errorf("%w: incomplete proof", ErrEntryInclusion)
		}
		if err := rekorverify.VerifyInclusion(ctx, e); err != nil {
			return fmt.Errorf("%w: %w", ErrEntryInclusion, err)
		}
		if err := rekorverify.VerifyCheckpointSignature(e, v); err != nil {
			return fmt.Errorf("%w: %w", ErrEntryInclusion, err)
		}
	}
	return r.checkContent(body, digest)
}

// checkContent checks that the logged entry (base64 body) is for digest and
// names r.signer: a log that answers with another entry, even one it signed,
// has not logged paved's signature.
func (r *rekorLog) checkContent(body string, digest []byte) error {
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return fmt.Errorf("%w: body is not base64", ErrEntryContent)
	}
	pe, err := models.UnmarshalProposedEntry(bytes.NewReader(raw), runtime.JSONConsumer())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEntryContent, err)
	}
	ei, err := types.UnmarshalEntry(pe)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEntryContent, err)
	}
	hash, err := ei.ArtifactHash()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEntryContent, err)
	}
	if want := "sha256:" + hex.EncodeToString(digest); hash != want {
		return fmt.Errorf("%w: it logs artifact %s, not %s", ErrEntryContent, hash, want)
	}
	keys, err := ei.Verifiers()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEntryContent, err)
	}
	for _, k := range keys {
		pemBytes, err := k.CanonicalValue()
		if err != nil {
			continue
		}
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM(pemBytes)
		if err != nil || len(certs) != 1 {
			continue
		}
		if cryptoutils.EqualKeys(certs[0].PublicKey, r.signer) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: it names another signer's certificate", ErrEntryContent)
}
