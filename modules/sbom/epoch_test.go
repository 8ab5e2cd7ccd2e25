package sbom

import (
	"strconv"
	"testing"
	"time"
)

func TestParseEpoch(t *testing.T) {
	for in, want := range map[string]time.Time{
		"0":            time.Unix(0, 0).UTC(),
		"1700000000":   time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC),
		"253402300799": time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		got, err := parseEpoch(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseEpoch(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5", "1e9", " 1", "253402300800", "yesterday"} {
		if got, err := parseEpoch(in); err == nil {
			t.Errorf("parseEpoch(%q) = %v, want an error", in, got)
		}
	}
}

func TestCreationTime(t *testing.T) {
	given := time.Date(2024, 1, 1, 0, 0, 0, 5, time.FixedZone("x", 3600))
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if got, _ := creationTime(given); !got.Equal(given.Truncate(time.Second)) || got.Location() != time.UTC {
		t.Errorf("creationTime(given) = %v, want %v in UTC", got, given)
	}
	if got, _ := creationTime(time.Time{}); got.Unix() != 1700000000 {
		t.Errorf("creationTime(zero) = %v, want SOURCE_DATE_EPOCH", got)
	}
}

// FuzzParseEpoch checks that an accepted SOURCE_DATE_EPOCH round-trips and
// formats as RFC 3339 with a four-digit year.
func FuzzParseEpoch(f *testing.F) {
	for _, s := range []string{"0", "1700000000", "-1", "253402300800", "+5", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseEpoch(s)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n != got.Unix() {
			t.Errorf("parseEpoch(%q) = %v (%d)", s, got, got.Unix())
		}
		if ts := got.Format(time.RFC3339); len(ts) != len("2006-01-02T15:04:05Z") {
			t.Errorf("parseEpoch(%q) formats as %q", s, ts)
		}
	})
}
