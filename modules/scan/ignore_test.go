package scan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseIgnore(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		in   string
		want Ignore
		err  bool
	}{
		{in: "CVE-2024-1234 until 2027-01-01: waiting for upstream", want: Ignore{ID: "CVE-2024-1234", Reason: "waiting for upstream", Expires: date("2027-01-01")}},
		{in: "  GO-2024-0001:   not reachable: handlers never parse  ", want: Ignore{ID: "GO-2024-0001", Reason: "not reachable: handlers never parse"}},
		{in: "GHSA-xxxx-yyyy-zzzz until 2026-12-31", want: Ignore{ID: "GHSA-xxxx-yyyy-zzzz", Expires: date("2026-12-31")}},
		{in: "CVE-2024-1234", want: Ignore{ID: "CVE-2024-1234"}},
		{in: "", err: true},
		{in: ": reason only", err: true},
		{in: "CVE-2024-1234 until: reason", err: true},
		{in: "CVE-2024-1234 until 2027-13-01: reason", err: true},
		{in: "CVE-2024-1234 till 2027-01-01: reason", err: true},
		{in: "CVE 2024 1234: reason", err: true},
		{in: "CVE/2024: reason", err: true},
		{in: "CVE-2024-1234: line\nbreak", err: true},
	}
	for _, tt := range tests {
		got, err := ParseIgnore(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseIgnore(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseIgnore(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParseIgnore(f *testing.F) {
	for _, s := range []string{
		"CVE-2024-1234 until 2027-01-01: waiting for upstream",
		"GO-2024-0001: not reachable",
		"GHSA-xxxx-yyyy-zzzz until 2026-12-31",
		"CVE-2024-1234",
		": x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ig, err := ParseIgnore(s)
		if err != nil {
			return
		}
		if !validID(ig.ID) {
			t.Fatalf("ParseIgnore(%q) accepted ID %q", s, ig.ID)
		}
		// What parses writes back to an entry that parses the same.
		again, err := ParseIgnore(ig.String())
		if err != nil {
			t.Fatalf("ParseIgnore(%q) = %+v, but its String %q does not parse: %v", s, ig, ig.String(), err)
		}
		if diff := cmp.Diff(ig, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", s, ig.String(), diff)
		}
	})
}

func TestIgnoresHonoured(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	active, warns := activeIgnores([]Ignore{
		{ID: "CVE-1", Reason: "ok", Expires: now.Add(time.Hour)},
		{ID: "CVE-2", Reason: "ok"}, // no expiry
		{ID: "CVE-3", Reason: "  ", Expires: now.Add(time.Hour)},
		{ID: "CVE-4", Reason: "late", Expires: now.AddDate(0, 0, -1)},
		// Through the end of the named day, UTC: at noon on 1 June an
		// entry that expires on 1 June still holds.
		{ID: "CVE-6", Reason: "today", Expires: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "not an id", Reason: "x"},
		{ID: "CVE-5", Reason: "stale entry"},
	}, now)
	fs := []Finding{
		{ID: "CVE-1", Severity: "CRITICAL"},
		{ID: "GO-2", Aliases: []string{"cve-2"}, Severity: "HIGH"},
		{ID: "CVE-3", Severity: "LOW"},
		{ID: "CVE-4", Severity: "LOW"},
		{ID: "CVE-6", Severity: "LOW"},
	}
	warns = append(warns, applyIgnores(fs, active)...)
	wantWarns := []string{
		"ignore CVE-3: no reason given, not honoured",
		"ignore CVE-4: expired after 2026-05-31, not honoured",
		`ignore "not an id": not a vulnerability ID, not honoured`,
		"ignore CVE-5: matches no finding",
	}
	if diff := cmp.Diff(wantWarns, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	var ignored []string
	for _, f := range fs {
		ignored = append(ignored, f.Ignored)
	}
	if diff := cmp.Diff([]string{"ok", "ok", "", "", "today"}, ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 2, "UNKNOWN": 0}, count(fs)); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
