package testtools

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/runtime"
	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	ctx509util "github.com/google/certificate-transparency-go/x509util"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Sigstore serves Fulcio's v2 signingCert and Rekor's v1 log entries
// APIs on loopback. Its Fulcio CA comes from sigstore-go's test CA helpers
// and embeds a real SCT from its own CT log key in each certificate; its
// Rekor signs entry timestamps and inclusion-proof checkpoints with a
// VirtualSigstore log key. TrustedRoot describes all three as a Sigstore
// trusted_root.json. Inject makes either service misbehave.
type Sigstore struct {
	Issuer      string // OIDC issuer put in certificates
	FulcioURL   string
	RekorURL    string
	TrustedRoot string // path of trusted_root.json

	rootCert, interCert *x509.Certificate
	interKey            crypto.Signer
	ctKey               *ecdsa.PrivateKey
	vs                  *ca.VirtualSigstore

	mu       sync.Mutex
	entries  int
	first    []byte   // the first logged entry's body, for RekorReplay
	requests []string // raw request bodies, to check no secret reached them
	fault    Fault
}

// Fault is a way for the stand-ins to answer wrongly, so tests can check
// that a keyless signer refuses what it cannot trust. Each answer is
// otherwise well formed and signed.
type Fault int

const (
	NoFault Fault = iota
	// FulcioOtherKey: Fulcio certifies a fresh key, not the one sent.
	FulcioOtherKey
	// FulcioOtherCA: Fulcio issues from a CA the trusted root lacks, and
	// lists that CA's chain.
	FulcioOtherCA
	// FulcioBadSCT: the embedded SCT names the trusted CT log but another
	// key signed it.
	FulcioBadSCT
	// RekorBadSET: Rekor signs the entry timestamp with another key.
	RekorBadSET
	// RekorBadInclusionProof: the inclusion proof's root hash is not the
	// one the signed checkpoint holds.
	RekorBadInclusionProof
	// RekorReplay: Rekor answers with its first entry (validly signed, but
	// for another signature) instead of the one proposed.
	RekorReplay
)

// Inject makes the services answer with fault from now on.
func (f *Sigstore) Inject(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fault
}

func (f *Sigstore) currentFault() Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fault
}

// Requests returns the bodies of the requests Fulcio and Rekor received.
func (f *Sigstore) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// Entries is the number of entries Rekor logged.
func (f *Sigstore) Entries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.entries
}

func NewSigstore(t testing.TB) *Sigstore {
	t.Helper()
	f := &Sigstore{Issuer: "https://oidc.example.test"}
	var err error
	var rootKey crypto.Signer
	if f.rootCert, rootKey, err = caRoot(); err != nil {
		t.Fatal(err)
	}
	if f.interCert, f.interKey, err = caIntermediate(f.rootCert, rootKey); err != nil {
		t.Fatal(err)
	}
	if f.ctKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if f.vs, err = ca.NewVirtualSigstore(); err != nil {
		t.Fatal(err)
	}
	fulcio := httptest.NewServer(http.HandlerFunc(f.signingCert))
	t.Cleanup(fulcio.Close)
	rekor := httptest.NewServer(http.HandlerFunc(f.logEntries))
	t.Cleanup(rekor.Close)
	f.FulcioURL, f.RekorURL = fulcio.URL, rekor.URL
	f.TrustedRoot = f.WriteTrustedRoot(t, f, true)
	return f
}

func caRoot() (*x509.Certificate, crypto.Signer, error) {
	c, k, err := ca.GenerateRootCa()
	return c, k, err
}

func caIntermediate(rootCert *x509.Certificate, rootKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	c, k, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	return c, k, err
}

// Token returns an (unsigned) OIDC token for email; the stand-in Fulcio
// reads its claims as the real one does after verifying it.
func (f *Sigstore) Token(email string) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"iss": f.Issuer, "sub": email, "email": email, "email_verified": true, "aud": "sigstore"})
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString([]byte("sig"))
}

func (f *Sigstore) record(body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, string(body))
}

func (f *Sigstore) signingCert(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/signingCert" {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.record(buf.Bytes())
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	email, err := tokenEmail(token)
	if err != nil {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	var req struct {
		PublicKeyRequest struct {
			PublicKey struct {
				Content string `json:"content"`
			} `json:"publicKey"`
			ProofOfPossession string `json:"proofOfPossession"`
		} `json:"publicKeyRequest"`
	}
	if err := json.Unmarshal(buf.Bytes(), &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Proof of possession, as Fulcio checks it.
	proof, _ := base64.StdEncoding.DecodeString(req.PublicKeyRequest.ProofOfPossession)
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil || v.VerifySignature(bytes.NewReader(proof), strings.NewReader(email)) != nil {
		http.Error(w, "proof of possession failed", http.StatusBadRequest)
		return
	}
	is := f.trustedIssuer()
	switch f.currentFault() {
	case FulcioOtherKey:
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		pub = other.Public()
	case FulcioOtherCA:
		rootCert, rootKey, err := caRoot()
		if err == nil {
			is.cert, is.key, err = caIntermediate(rootCert, rootKey)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		is.root = rootCert
	case FulcioBadSCT:
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		is.ct = other
	}
	leaf, err := f.issue(pub, email, is)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	chain := []string{string(leaf), pemCert(is.cert), pemCert(is.root)}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}}})
}

var (
	oidIssuer  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidPoison  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
	oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
)

// Certificate is a certificate (DER) the stand-in Fulcio issues for pub and
// email, as signingCert would without faults.
func (f *Sigstore) Certificate(t testing.TB, pub crypto.PublicKey, email string) []byte {
	t.Helper()
	p, err := f.issue(pub, email, f.trustedIssuer())
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(p)
	if block == nil {
		t.Fatal("stand-in Fulcio issued no PEM certificate")
	}
	return block.Bytes
}

// issuer is the CA that issues a certificate and the CT log key that signs
// its SCT (ct), named in the SCT as ctID's log.
type issuer struct {
	cert, root *x509.Certificate
	key        crypto.Signer
	ct, ctID   *ecdsa.PrivateKey
}

// trustedIssuer is the CA and CT log the trusted root lists.
func (f *Sigstore) trustedIssuer() issuer {
	return issuer{cert: f.interCert, key: f.interKey, root: f.rootCert, ct: f.ctKey, ctID: f.ctKey}
}

// issue certifies pub for email as Fulcio does: a precertificate logged to
// the CT log, then the certificate with the SCT embedded.
func (f *Sigstore) issue(pub crypto.PublicKey, email string, is issuer) ([]byte, error) {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		EmailAddresses:  []string{email},
		NotBefore:       now.Add(-time.Minute),
		NotAfter:        now.Add(10 * time.Minute),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{{Id: oidIssuer, Value: []byte(f.Issuer)}},
	}
	pre := *tmpl
	pre.ExtraExtensions = append(append([]pkix.Extension{}, tmpl.ExtraExtensions...), pkix.Extension{Id: oidPoison, Critical: true, Value: asn1.NullBytes})
	preDER, err := x509.CreateCertificate(rand.Reader, &pre, is.cert, pub, is.key)
	if err != nil {
		return nil, err
	}
	sct, err := sctFor(preDER, now, is)
	if err != nil {
		return nil, err
	}
	list, err := ctx509util.MarshalSCTsIntoSCTList([]*ct.SignedCertificateTimestamp{sct})
	if err != nil {
		return nil, err
	}
	listBytes, err := cttls.Marshal(*list)
	if err != nil {
		return nil, err
	}
	ext, err := asn1.Marshal(listBytes)
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidSCTList, Value: ext})
	der, err := x509.CreateCertificate(rand.Reader, tmpl, is.cert, pub, is.key)
	if err != nil {
		return nil, err
	}
	return []byte(pemDER(der)), nil
}

// sctFor is the CT log's timestamp for a precertificate.
func sctFor(preDER []byte, at time.Time, is issuer) (*ct.SignedCertificateTimestamp, error) {
	pre, err := ctx509.ParseCertificate(preDER)
	if err != nil {
		return nil, err
	}
	issuer, err := ctx509.ParseCertificate(is.cert.Raw)
	if err != nil {
		return nil, err
	}
	ms := uint64(at.UnixMilli())
	leaf, err := ct.MerkleTreeLeafFromChain([]*ctx509.Certificate{pre, issuer}, ct.PrecertLogEntryType, ms)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(is.ctID.Public())
	if err != nil {
		return nil, err
	}
	sct := &ct.SignedCertificateTimestamp{SCTVersion: ct.V1, LogID: ct.LogID{KeyID: sha256.Sum256(pubDER)}, Timestamp: ms}
	input, err := ct.SerializeSCTSignatureInput(*sct, ct.LogEntry{Leaf: *leaf})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, is.ct, sum[:])
	if err != nil {
		return nil, err
	}
	sct.Signature = ct.DigitallySigned{
		Algorithm: cttls.SignatureAndHashAlgorithm{Hash: cttls.SHA256, Signature: cttls.ECDSA},
		Signature: sig,
	}
	return sct, nil
}

// logEntries accepts a proposed entry as Rekor does: it parses and checks
// the entry (signature over the artifact by the certificate's key),
// canonicalizes it and returns it with a signed entry timestamp.
func (f *Sigstore) logEntries(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/log/entries" {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.record(buf.Bytes())
	pe, err := models.UnmarshalProposedEntry(bytes.NewReader(buf.Bytes()), runtime.JSONConsumer())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ei, err := types.UnmarshalEntry(pe)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, err := types.CanonicalizeEntry(r.Context(), ei)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fault := f.currentFault()
	f.mu.Lock()
	index := int64(f.entries)
	f.entries++
	if f.first == nil {
		f.first = body
	} else if fault == RekorReplay {
		body = f.first
	}
	f.mu.Unlock()
	logID, err := f.vs.RekorLogID()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	integrated := time.Now().Unix()
	b64 := base64.StdEncoding.EncodeToString(body)
	setSigner := f.vs
	if fault == RekorBadSET {
		if setSigner, err = ca.NewVirtualSigstore(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	set, err := setSigner.RekorSignPayload(tlog.RekorPayload{Body: b64, IntegratedTime: integrated, LogIndex: index, LogID: logID})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// A proof in a tree of this one entry, under a checkpoint signed with
	// the log key, as Rekor returns with each new entry.
	proof, err := f.vs.GetInclusionProof(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if fault == RekorBadInclusionProof {
		other := sha256.Sum256([]byte("another tree"))
		*proof.RootHash = hex.EncodeToString(other[:])
	}
	leafHash := sha256.Sum256(append([]byte{0}, body...))
	uuid := hex.EncodeToString(leafHash[:])
	w.Header().Set("ETag", uuid)
	w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{uuid: map[string]any{
		"body": b64, "integratedTime": integrated, "logID": logID, "logIndex": index,
		"verification": map[string]any{"signedEntryTimestamp": set, "inclusionProof": proof},
	}})
}

// WriteTrustedRoot writes caOf's CA, f's CT log (unless !withCT) and f's
// Rekor key as a trusted root.
func (f *Sigstore) WriteTrustedRoot(t testing.TB, caOf *Sigstore, withCT bool) string {
	t.Helper()
	now := time.Now()
	caAuth := &root.FulcioCertificateAuthority{
		Root: caOf.rootCert, Intermediates: []*x509.Certificate{caOf.interCert},
		ValidityPeriodStart: now.Add(-time.Hour), ValidityPeriodEnd: now.Add(time.Hour), URI: f.FulcioURL,
	}
	ctID := keyID(t, f.ctKey.Public())
	ctlogs := map[string]*root.TransparencyLog{hex.EncodeToString(ctID): {
		BaseURL: "https://ct.example.test", ID: ctID, HashFunc: crypto.SHA256, PublicKey: f.ctKey.Public(),
		SignatureHashFunc: crypto.SHA256, ValidityPeriodStart: now.Add(-time.Hour), ValidityPeriodEnd: now.Add(time.Hour),
	}}
	if !withCT {
		ctlogs = nil
	}
	rekorLogs := map[string]*root.TransparencyLog{}
	for _, l := range f.vs.RekorLogs() {
		id := keyID(t, l.PublicKey) // raw key ID, as a trusted root stores it
		l.ID, l.BaseURL = id, f.RekorURL
		rekorLogs[hex.EncodeToString(id)] = l
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{caAuth}, ctlogs, nil, rekorLogs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func keyID(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return sum[:]
}

func pemCert(c *x509.Certificate) string { return pemDER(c.Raw) }

func pemDER(der []byte) string {
	b, _ := cryptoutils.MarshalCertificateToPEM(&x509.Certificate{Raw: der})
	return string(b)
}

// tokenEmail reads the email claim of a JWT.
func tokenEmail(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		Email string `json:"email"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", err
	}
	if c.Email == "" {
		return "", errors.New("no email claim")
	}
	return c.Email, nil
}
