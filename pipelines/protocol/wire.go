package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Request is every request the wire carries.
type Request interface {
	SBOMRequest | ScanRequest | LintRequest | SignRequest | AttestRequest | EvaluateRequest
}

// task names a request on the wire. The names come from the request types
// here and nowhere else: Serve dispatches on task of the same types.
func task(req any) string {
	switch req.(type) {
	case SBOMRequest:
		return "sbom"
	case ScanRequest:
		return "scan"
	case LintRequest:
		return "lint"
	case SignRequest:
		return "sign"
	case AttestRequest:
		return "attest"
	case EvaluateRequest:
		return "evaluate"
	}
	panic(fmt.Sprintf("protocol: no task for %T", req))
}

// Call is one request on the wire: what the worker reads on stdin.
type Call struct {
	Task    string          `json:"task"`
	Request json.RawMessage `json:"request"`
}

// Answer is what the worker writes on stdout. A step may answer a result
// with an error (a scan whose gate failed).
type Answer struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// NewCall encodes req for the wire, with its secrets in the environment
// entries ("NAME=value") to give the worker alone.
func NewCall[R Request](req R) (c Call, env []string, err error) {
	b, err := json.Marshal(req)
	if err != nil {
		return Call{}, nil, err
	}
	var s Secrets
	switch r := any(req).(type) {
	case SignRequest:
		s = r.Secrets
	case AttestRequest:
		s = r.Secrets
	}
	return Call{Task: task(req), Request: b}, s.env(), nil
}

// The environment variables that carry secrets to the worker, as cosign
// names them.
const (
	envPassword = "COSIGN_PASSWORD"
	envIDToken  = "SIGSTORE_ID_TOKEN"
)

func (s Secrets) env() []string {
	var env []string
	if len(s.Password) > 0 {
		env = append(env, envPassword+"="+string(s.Password))
	}
	if s.IDToken != "" {
		env = append(env, envIDToken+"="+s.IDToken)
	}
	return env
}

// TakeSecrets reads the secrets NewCall put in the worker's environment
// and removes them from it, so nothing the worker starts inherits them.
func TakeSecrets() Secrets {
	s := Secrets{Password: []byte(os.Getenv(envPassword)), IDToken: os.Getenv(envIDToken)}
	if len(s.Password) == 0 {
		s.Password = nil
	}
	os.Unsetenv(envPassword)
	os.Unsetenv(envIDToken)
	return s
}

// Decode reads an answer's result into res, and returns the answer's
// error. res is left nil when the answer holds no result.
func (a Answer) Decode(res any) error {
	var errs []error
	if a.Error != "" {
		errs = append(errs, errors.New(a.Error))
	}
	if len(a.Result) > 0 && string(a.Result) != "null" {
		if err := json.Unmarshal(a.Result, res); err != nil {
			errs = append(errs, fmt.Errorf("decoding the worker's result: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Serve reads one Call from r, runs it with x and writes the Answer to w.
// secrets go to the signing steps. An error means no answer was written.
func Serve(ctx context.Context, r io.Reader, w io.Writer, x Executor, secrets Secrets) error {
	var c Call
	if err := json.NewDecoder(r).Decode(&c); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	var a Answer
	var err error
	switch c.Task {
	case task(SBOMRequest{}):
		a, err = answer(ctx, c.Request, x.SBOM, nil)
	case task(ScanRequest{}):
		a, err = answer(ctx, c.Request, x.Scan, nil)
	case task(LintRequest{}):
		a, err = answer(ctx, c.Request, x.Lint, nil)
	case task(SignRequest{}):
		a, err = answer(ctx, c.Request, x.Sign, func(r *SignRequest) { r.Secrets = secrets })
	case task(AttestRequest{}):
		a, err = answer(ctx, c.Request, x.Attest, func(r *AttestRequest) { r.Secrets = secrets })
	case task(EvaluateRequest{}):
		a, err = answer(ctx, c.Request, x.Evaluate, nil)
	default:
		return fmt.Errorf("unknown task %q", c.Task)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(a)
}

// answer decodes a request, runs fn and encodes what it returned.
func answer[R Request, V any](ctx context.Context, raw json.RawMessage, fn func(context.Context, R) (*V, error), with func(*R)) (Answer, error) {
	var req R
	if err := json.Unmarshal(raw, &req); err != nil {
		return Answer{}, fmt.Errorf("reading the %s request: %w", task(req), err)
	}
	if with != nil {
		with(&req)
	}
	res, err := fn(ctx, req)
	var a Answer
	if res != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			return Answer{}, merr
		}
		a.Result = b
	}
	if err != nil {
		a.Error = err.Error()
	}
	return a, nil
}
