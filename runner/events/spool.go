package events

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pavedhq/paved/internal/flock"
)

// DefaultMaxSpool bounds the spool: about twenty thousand typical events.
const DefaultMaxSpool = 64 << 20

// Back-off between attempts to deliver one entry: doubling from
// BackoffMin, never more than BackoffMax.
const (
	BackoffMin = 30 * time.Second
	BackoffMax = time.Hour
)

const entryExt = ".ev"

// Spool is a directory of events waiting for their sinks, one file per
// (sink, event). A file is written whole and synced before an event is
// sent, and removed once the sink has it. Processes share a spool: an
// entry being sent is flock'd, and a process that finds it locked, or
// replaced or removed once it holds the lock, leaves it alone.
type Spool struct {
	dir string
	// MaxBytes bounds the entries' total size; 0 means DefaultMaxSpool.
	MaxBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultDir is the spool in paved's state directory:
// $XDG_STATE_HOME/paved/events, else ~/.local/state/paved/events.
func DefaultDir() string {
	return filepath.Join(StateDir(), "events")
}

// StateDir is paved's state directory.
func StateDir() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "paved")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "paved")
}

// OpenSpool opens (creating) the spool in dir.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("events spool: %w", err)
	}
	return &Spool{dir: dir}, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

func (s *Spool) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Spool) max() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxSpool
}

// FullError is an event the spool refused for want of room.
type FullError struct {
	Dir       string
	Size, Max int64
}

func (e *FullError) Error() string {
	return fmt.Sprintf("events spool %s is full (%d of %d bytes)", e.Dir, e.Size, e.Max)
}

// entryName is the same for the same event to the same sink, so spooling
// an event again replaces it instead of queueing a duplicate.
func entryName(sink Spec, ev *Event) string {
	h := sha256.Sum256([]byte(string(sink) + "\x00" + ev.Source() + "\x00" + ev.ID()))
	return hex.EncodeToString(h[:20]) + entryExt
}

// Append stores ev for sink, synced, before anyone sends it. It returns a
// *FullError, storing nothing, when the spool is at its bound.
func (s *Spool) Append(sink Spec, ev *Event) error {
	rec := &Record{V: recordVersion, Sink: sink, Created: s.now().UTC(), Event: ev}
	b, err := rec.Marshal()
	if err != nil {
		return err
	}
	if len(b) > MaxRecordSize {
		return fmt.Errorf("event %s: %d bytes is more than a spool entry may hold (%d)", ev.ID(), len(b), MaxRecordSize)
	}
	size, err := s.size()
	if err != nil {
		return err
	}
	if size+int64(len(b)) > s.max() {
		return &FullError{Dir: s.dir, Size: size, Max: s.max()}
	}
	return s.write(entryName(sink, ev), b)
}

// size is the entries' total size.
func (s *Spool) size() (int64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("events spool: %w", err)
	}
	var n int64
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), entryExt) {
			continue
		}
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n, nil
}

// write puts b under name: a temporary file, synced, renamed, and the
// directory synced so the name survives a crash too.
func (s *Spool) write(name string, b []byte) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("events spool: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("events spool: %w", err)
	}
	return s.syncDir()
}

func (s *Spool) syncDir() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("events spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("events spool: %w", err)
	}
	return nil
}

// Entry is a spooled event, for listing.
type Entry struct {
	Name string
	*Record
}

// Entries lists what waits, oldest first. Entries that cannot be read are
// set aside (renamed *.bad) and reported in the error, not deleted.
func (s *Spool) Entries() ([]Entry, error) {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("events spool: %w", err)
	}
	var out []Entry
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			// A writer that crashed left it; an hour is far longer than
			// any write takes.
			if info, err := e.Info(); err == nil && s.now().Sub(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(s.dir, name))
			}
			continue
		}
		if !strings.HasSuffix(name, entryExt) {
			continue
		}
		b, err := readLimited(filepath.Join(s.dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // delivered meanwhile
		}
		var rec *Record
		if err == nil {
			rec, err = ParseRecord(b)
		}
		if err != nil {
			bad := filepath.Join(s.dir, strings.TrimSuffix(name, entryExt)+".bad")
			os.Rename(filepath.Join(s.dir, name), bad)
			errs = append(errs, fmt.Errorf("%s set aside as %s: %w", name, filepath.Base(bad), err))
			continue
		}
		out = append(out, Entry{Name: name, Record: rec})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, errors.Join(errs...)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
}

// Delivery is what one pass over the spool did.
type Delivery struct {
	Delivered int
	// Pending counts what is left for later, by sink.
	Pending map[Spec]int
	// Warnings say what was dropped or set aside, for people.
	Warnings []string
	// Down says, for each sink that failed, how.
	Down map[Spec]string
	// TimedOut are the sinks that failed by not answering in time.
	TimedOut map[Spec]bool
	// Mine counts this process's own events still in the spool after the
	// pass (Emitter.Deliver sets it).
	Mine int

	// busy are the entries another process was sending during the pass.
	busy []Entry
}

// Skip is what an Opener returns for a sink not to try in this pass: its
// entries wait, with no warning.
var Skip = errors.New("skipped")

func timeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// PendingTotal is the number of entries left.
func (d *Delivery) PendingTotal() int {
	n := 0
	for _, v := range d.Pending {
		n += v
	}
	return n
}

// Opener makes the sink for a spec.
type Opener func(Spec) (Sink, error)

// Deliver sends what waits, each sink's entries oldest first. An entry in
// back-off is skipped unless force is set or its sink acknowledged another
// entry in this pass (it is up again). The first failure of a sink ends
// its turn: one outage costs one time-out, not one per event.
func (s *Spool) Deliver(ctx context.Context, open Opener, force bool) *Delivery {
	d := &Delivery{Pending: map[Spec]int{}, Down: map[Spec]string{}, TimedOut: map[Spec]bool{}}
	entries, err := s.Entries()
	if err != nil {
		d.Warnings = append(d.Warnings, err.Error())
	}
	bySink := map[Spec][]Entry{}
	var order []Spec
	for _, e := range entries {
		if _, ok := bySink[e.Sink]; !ok {
			order = append(order, e.Sink)
		}
		bySink[e.Sink] = append(bySink[e.Sink], e)
	}
	for _, spec := range order {
		list := bySink[spec]
		sink, err := open(spec)
		if errors.Is(err, Skip) {
			d.Pending[spec] += len(list)
			continue
		}
		if err != nil {
			d.Pending[spec] += len(list)
			d.Down[spec] = fmt.Sprintf("events: %d event(s) wait for a sink paved cannot open: %v", len(list), err)
			continue
		}
		now := s.now()
		var later []Entry
		acked, down := false, false
		try := func(e Entry) {
			if down || ctx.Err() != nil {
				d.Pending[spec]++
				return
			}
			ok, err := s.deliverOne(ctx, sink, e)
			switch {
			case ok:
				acked = true
				d.Delivered++
			case err == nil:
				// Another process holds it, or has delivered it: only
				// that process knows which, once it lets go (waiting).
				d.busy = append(d.busy, e)
			default:
				var rej *RejectedError
				if errors.As(err, &rej) {
					acked = true
					d.Warnings = append(d.Warnings, fmt.Sprintf("events: %s refused %s %s (%v); dropped, since sending it again would be refused again", sink, e.Event.Type(), e.Event.ID(), err))
					return
				}
				down = true
				d.TimedOut[spec] = timeout(err)
				d.Pending[spec]++
				d.Down[spec] = (fmt.Sprintf("events: sink %s did not take %s (%v); it and the rest for that sink stay in the spool %s for the next run or paved events flush", sink, e.Event.ID(), err, s.dir))
			}
		}
		for _, e := range list {
			if !force && e.Next.After(now) {
				later = append(later, e)
				continue
			}
			try(e)
		}
		for _, e := range later {
			if acked {
				try(e)
			} else {
				d.Pending[spec]++
			}
		}
	}
	for k, v := range d.Pending {
		if v == 0 {
			delete(d.Pending, k)
		}
	}
	return d
}

// deliverOne sends one entry while holding its lock. It reports false with
// no error when another process has the entry or it is gone.
func (s *Spool) deliverOne(ctx context.Context, sink Sink, e Entry) (bool, error) {
	path := filepath.Join(s.dir, e.Name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("events spool: %w", err)
	}
	defer f.Close()
	// Without flock (not unix) two processes flushing at once may both send
	// an entry: ids are stable, so a receiver that de-duplicates on
	// (source, id) still stores it once.
	locked, err := flock.TryExclusive(f)
	if err != nil || !locked {
		return false, err
	}
	// Holding the lock on a file the name no longer points at means it was
	// delivered (removed) or rewritten meanwhile: not ours to send.
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	cur, err := os.Stat(path)
	if err != nil || !os.SameFile(held, cur) {
		return false, nil
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
	if err != nil {
		return false, fmt.Errorf("events spool: %w", err)
	}
	rec, err := ParseRecord(b)
	if err != nil {
		os.Rename(path, strings.TrimSuffix(path, entryExt)+".bad")
		return false, nil
	}
	sendErr := sink.Send(ctx, rec.Event)
	var rej *RejectedError
	if sendErr == nil || errors.As(sendErr, &rej) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("events spool: delivered %s but could not remove it (it will be sent again): %w", rec.Event.ID(), err)
		}
		s.syncDir()
		return sendErr == nil, sendErr
	}
	rec.Attempts++
	rec.Next = s.now().UTC().Add(backoff(rec.Attempts))
	rec.LastError = sendErr.Error()
	// Replace the file (rename) while holding the old one's lock, so
	// whoever opens the new one next sees the back-off; unless the name
	// now holds another copy (the event spooled again meanwhile), which
	// stays as it is.
	if cur, err := os.Stat(path); err == nil && os.SameFile(held, cur) {
		if nb, err := rec.Marshal(); err == nil {
			s.write(e.Name, nb)
		}
	}
	return false, sendErr
}

// waiting reports whether the entry name is still in the spool once no
// other process is sending it. A process that holds it may be sending it
// right now, and only the outcome says whether it is delivered; if ctx
// ends first, it counts as waiting.
func (s *Spool) waiting(ctx context.Context, name string) bool {
	path := filepath.Join(s.dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	locked, err := flock.TryShared(f)
	if err == nil && !locked {
		done := make(chan error, 1)
		go func() { done <- flock.Shared(f) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			// The wait goes on in the background; closing f at its end
			// releases the lock it then gets.
			go func() { <-done; f.Close() }()
			return true
		}
	}
	defer f.Close()
	if err != nil {
		return true
	}
	_, err = os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// backoff is the wait after the n-th failed attempt.
func backoff(n int) time.Duration {
	d := BackoffMin
	for i := 1; i < n && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}
