package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pavedhq/paved/runner"
)

// EnvSinks lists sinks, comma-separated, on top of flags and paved.yaml.
const EnvSinks = "PAVED_EVENTS"

// EnvSpoolMax bounds the spool (such as 256MiB); default DefaultMaxSpool.
const EnvSpoolMax = "PAVED_EVENTS_SPOOL_MAX"

// Emitter spools events for its sinks and delivers them. Its methods never
// fail a caller: what goes wrong becomes a warning (Warnings), since an
// event sink outage must not fail a pipeline.
type Emitter struct {
	// Spool holds events until their sinks have them; nil sends directly
	// and loses what a sink does not take.
	Spool *Spool
	// Sinks receive every event emitted.
	Sinks []Spec
	// Token is the bearer token for HTTP sinks (TokenEnv).
	Token string
	// Stdout is where the stdout sink writes; nil means os.Stdout.
	Stdout io.Writer

	mu       sync.Mutex
	deliver  sync.Mutex
	warnings []string
	sinks    map[Spec]Sink
	// warnedDown holds the sinks already reported down: one warning per
	// sink and process, however many passes fail.
	warnedDown map[Spec]bool
	// slow holds the sinks that timed out: later passes of this process
	// leave them alone (their events wait in the spool), so a sink that
	// does not answer costs a run one time-out, not one per pass.
	slow map[Spec]bool
	// mine holds the spool entries of the events this process emitted, by
	// name, until a pass finds them gone: a process reports on its own
	// events even when another process was the one that tried them.
	mine map[string]ownEntry
}

type ownEntry struct {
	sink   Spec
	id     string
	warned bool
}

// NewEmitter spools in the default spool directory for sinks. A spool
// that cannot be opened is a warning: events are then sent directly.
func NewEmitter(sinks []Spec, token string) *Emitter {
	e := &Emitter{Sinks: sinks, Token: token}
	sp, err := OpenSpool(DefaultDir())
	if err != nil {
		e.warn(fmt.Sprintf("events: %v; sending without a spool (what a sink does not take now is lost)", err))
	} else {
		e.Spool = sp
	}
	if v := os.Getenv(EnvSpoolMax); v != "" && e.Spool != nil {
		n, err := runner.ParseSize(v)
		if err != nil || n <= 0 {
			e.warn(fmt.Sprintf("events: $%s %q is not a size; the bound stays %s", EnvSpoolMax, v, runner.FormatSize(DefaultMaxSpool)))
		} else {
			e.Spool.MaxBytes = n
		}
	}
	return e
}

// Sinks reads sink specs from flags, then paved.yaml, then the
// environment (EnvSinks), dropping duplicates. The first bad one is an
// error naming it.
func Sinks(flags, config []string, env string) ([]Spec, error) {
	var out []Spec
	seen := map[Spec]bool{}
	add := func(from string, list []string) error {
		for _, s := range list {
			if strings.TrimSpace(s) == "" {
				continue
			}
			spec, err := ParseSpec(s)
			if err != nil {
				return fmt.Errorf("%s: %w", from, err)
			}
			if !seen[spec] {
				seen[spec] = true
				out = append(out, spec)
			}
		}
		return nil
	}
	if err := add("--events", flags); err != nil {
		return nil, err
	}
	if err := add("paved.yaml events", config); err != nil {
		return nil, err
	}
	if err := add(EnvSinks, strings.Split(env, ",")); err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Emitter) warn(w string) {
	e.mu.Lock()
	e.warnings = append(e.warnings, w)
	e.mu.Unlock()
}

// Warnings returns what went wrong so far, and forgets it.
func (e *Emitter) Warnings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.warnings
	e.warnings = nil
	return w
}

// Enabled reports whether events go anywhere.
func (e *Emitter) Enabled() bool { return e != nil && len(e.Sinks) > 0 }

// Emit spools ev for every sink. It does not send: Deliver does. When the
// spool is full or cannot be written, ev is sent at once instead, and
// dropped with a warning naming it if that fails too.
func (e *Emitter) Emit(ctx context.Context, ev *Event, err error) {
	if e == nil || len(e.Sinks) == 0 {
		return
	}
	if err != nil {
		e.warn(fmt.Sprintf("events: %v", err))
		return
	}
	for _, spec := range e.Sinks {
		if e.Spool != nil {
			aerr := e.Spool.Append(spec, ev)
			if aerr == nil {
				e.mu.Lock()
				if e.mine == nil {
					e.mine = map[string]ownEntry{}
				}
				e.mine[entryName(spec, ev)] = ownEntry{sink: spec, id: ev.ID()}
				e.mu.Unlock()
				continue
			}
			var full *FullError
			if errors.As(aerr, &full) {
				e.warn(fmt.Sprintf("events: %v: %s %s is not spooled for %s; paved sends it once now and drops it if that fails (deliver the spool with paved events flush, or raise $"+EnvSpoolMax+")", full, ev.Type(), ev.ID(), spec))
			} else {
				e.warn(fmt.Sprintf("events: %v; sending %s without spooling", aerr, ev.ID()))
			}
		}
		sink, err := e.open(spec)
		if err == nil {
			err = sink.Send(ctx, ev)
		}
		if err != nil {
			e.warn(fmt.Sprintf("events: dropped %s %s for %s: %v", ev.Type(), ev.ID(), spec, err))
		}
	}
}

func (e *Emitter) open(spec Spec) (Sink, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.sinks[spec]; ok {
		return s, nil
	}
	out := e.Stdout
	if out == nil {
		out = os.Stdout
	}
	s, err := spec.Open(e.Token, out)
	if err != nil {
		return nil, err
	}
	if e.sinks == nil {
		e.sinks = map[Spec]Sink{}
	}
	e.sinks[spec] = s
	return s, nil
}

// Deliver sends everything in the spool: this process's events and what
// earlier runs left, for whichever sink each names. timeout bounds the
// whole pass; what is not delivered stays for later, with a warning.
func (e *Emitter) Deliver(ctx context.Context, force bool, timeout time.Duration) *Delivery {
	if e == nil || e.Spool == nil {
		return &Delivery{}
	}
	e.deliver.Lock()
	defer e.deliver.Unlock()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
	}
	open := e.open
	if !force {
		open = func(s Spec) (Sink, error) {
			e.mu.Lock()
			slow := e.slow[s]
			e.mu.Unlock()
			if slow {
				return nil, Skip
			}
			return e.open(s)
		}
	}
	// The own events this pass can speak for: those spooled before it
	// lists the spool. One emitted meanwhile waits for the next pass.
	e.mu.Lock()
	mine := maps.Clone(e.mine)
	e.mu.Unlock()
	d := e.Spool.Deliver(ctx, open, force)
	e.mu.Lock()
	for s, t := range d.TimedOut {
		if t {
			if e.slow == nil {
				e.slow = map[Spec]bool{}
			}
			e.slow[s] = true
		}
	}
	e.mu.Unlock()
	for _, w := range d.Warnings {
		e.warn(w)
	}
	for _, spec := range sortedSpecs(d.Down) {
		e.mu.Lock()
		warned := e.warnedDown[spec]
		if e.warnedDown == nil {
			e.warnedDown = map[Spec]bool{}
		}
		e.warnedDown[spec] = true
		e.mu.Unlock()
		if !warned {
			e.warn(d.Down[spec])
		}
	}
	e.settle(ctx, d, mine, force)
	return d
}

// settle waits for the processes that were sending this process's events
// (or, when forced, any event) during the pass, then counts what is still
// in the spool: Pending for what another process held and failed to send,
// Mine for this process's own. Own events left without a warning so far
// (another process tried them and the sink did not take them) get one:
// the user must not take silence for delivery.
func (e *Emitter) settle(ctx context.Context, d *Delivery, mine map[string]ownEntry, force bool) {
	for _, b := range d.busy {
		if _, own := mine[b.Name]; (own || force) && e.Spool.waiting(ctx, b.Name) {
			d.Pending[b.Sink]++
			if !own {
				e.warn(fmt.Sprintf("events: another paved process was sending %s %s to %s and it is still in the spool %s", b.Event.Type(), b.Event.ID(), b.Sink, e.Spool.Dir()))
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	left := map[Spec][]string{}
	for name, o := range mine {
		if _, err := os.Stat(filepath.Join(e.Spool.Dir(), name)); errors.Is(err, fs.ErrNotExist) {
			delete(e.mine, name)
			continue
		}
		d.Mine++
		// A sink's outage was reported with where its events wait; an
		// event already reported waiting is not reported again.
		if cur := e.mine[name]; !e.warnedDown[o.sink] && !cur.warned {
			left[o.sink] = append(left[o.sink], o.id)
			cur.warned = true
			e.mine[name] = cur
		}
	}
	for _, spec := range slices.Sorted(maps.Keys(left)) {
		ids := left[spec]
		sort.Strings(ids)
		e.warnings = append(e.warnings, fmt.Sprintf("events: %s did not take %s yet (another paved process tried it meanwhile); it waits in the spool %s for the next run or paved events flush", spec, strings.Join(ids, ", "), e.Spool.Dir()))
	}
}

func sortedSpecs(m map[Spec]string) []Spec {
	out := make([]Spec, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
