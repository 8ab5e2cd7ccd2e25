package runner

import (
	"context"
	"errors"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing records an OpenTelemetry span per run and per step.
type Tracing struct {
	tracer   trace.Tracer
	shutdown func(context.Context) error
}

// NewTracing exports spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (the exporter reads the
// standard OTEL_* variables), and records nothing otherwise: a laptop run
// must not wait on a collector that is not there.
func NewTracing(ctx context.Context, version string) (*Tracing, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return &Tracing{tracer: noop.NewTracerProvider().Tracer("paved"), shutdown: func(context.Context) error { return nil }}, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "paved"),
		attribute.String("service.version", version),
	)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{tracer: tp.Tracer("github.com/pavedhq/paved/runner"), shutdown: tp.Shutdown}, nil
}

// Start opens a span, for the run as a whole.
func (t *Tracing) Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// Shutdown flushes spans still buffered.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// tracedStep wraps a step in a span.
type tracedStep struct {
	Step
	tracing *Tracing
}

var _ Step = (*tracedStep)(nil)

// Traced wraps s so each run records a span; a nil Tracing leaves s as is.
func Traced(s Step, t *Tracing) Step {
	if t == nil {
		return s
	}
	return &tracedStep{Step: s, tracing: t}
}

func (s *tracedStep) Run(ctx context.Context, in Inputs) (*Result, error) {
	ctx, span := s.tracing.Start(ctx, "step "+s.Name(), attribute.String("paved.step", s.Name()))
	defer span.End()
	r, err := s.Step.Run(ctx, in)
	if r != nil {
		span.SetAttributes(attribute.Bool("paved.cached", r.Cached))
	}
	if err != nil {
		// Spans leave the machine: no URL credentials in them.
		redacted := errors.New(RedactURL(err.Error()))
		span.RecordError(redacted)
		span.SetStatus(codes.Error, redacted.Error())
	}
	return r, err
}
