package expiry

import (
	"testing"
	"time"
)

func TestHonouredThroughTheNamedDay(t *testing.T) {
	day, err := Parse("2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2027, 1, 1, 0, 0, 0, 1, time.UTC), false},
		// The day is UTC's, whatever the zone of now: 23:30 in New York
		// on the 31st is 04:30 UTC on the 1st.
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), false},
		{time.Date(2027, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), true},
	}
	for _, tt := range tests {
		if got := Honoured(day, tt.now); got != tt.want {
			t.Errorf("expires 2026-12-31, Honoured at %s = %v, want %v", tt.now.Format(time.RFC3339Nano), got, tt.want)
		}
	}
	if !Honoured(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("the zero expiry expired")
	}
	// Only the date counts: an instant in the day means the whole day.
	if !Honoured(time.Date(2026, 12, 31, 0, 0, 1, 0, time.UTC), time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Error("an expiry given as an instant ended before the end of its day")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"2026-12-31", "2024-02-29", "0001-01-01"} {
		got, err := Parse(s)
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if Day(got) != s || got.Location() != time.UTC || got.Hour()+got.Minute()+got.Second()+got.Nanosecond() != 0 {
			t.Errorf("Parse(%q) = %v, want the start of that day, UTC", s, got)
		}
	}
	for _, s := range []string{"", "2026-13-01", "2025-02-29", "2026-1-1", "31/12/2026", " 2026-12-31", "2026-12-31T00:00:00Z", "2026-12-31 "} {
		if got, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", s, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-12-31", "2024-02-29", "2026-13-01", "", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if Day(d) != s {
			t.Fatalf("Parse(%q) = %v, written back as %q", s, d, Day(d))
		}
		if !Honoured(d, d) || !Honoured(d, End(d).Add(-1)) || Honoured(d, End(d)) {
			t.Fatalf("%s: not honoured through exactly its day (end %v)", s, End(d))
		}
		if End(d).Sub(d) != 24*time.Hour {
			t.Fatalf("%s: a day of %v", s, End(d).Sub(d))
		}
	})
}
