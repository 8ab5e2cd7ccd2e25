package runner

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"1048576", 1 << 20, ""},
		{"1MB", 1_000_000, ""},
		{"1mb", 1_000_000, ""},
		{"512MiB", 512 << 20, ""},
		{"2GB", 2_000_000_000, ""},
		{"10GiB", 10 << 30, ""},
		{"1.5GiB", 3 << 29, ""},
		{"0.1GB", 100_000_000, ""},
		{" 3 KiB ", 3072, ""},
		{"0", 0, ""},
		{"", 0, "want a number"},
		{"MB", 0, "want a number"},
		{"1M", 0, "unknown unit"},
		{"-1MB", 0, "unknown unit"},
		{"1.2.3MB", 0, "want a number"},
		{"1e9", 0, "unknown unit"},
		{"9999999TiB", 0, "too large"},
	} {
		got, err := ParseSize(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSize(%q) = %d, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"72h", 72 * time.Hour, ""},
		{"30d", 30 * 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"1h30m15s", time.Hour + 30*time.Minute + 15*time.Second, ""},
		{"", 0, "want a number"},
		{"0d", 0, "more than zero"},
		{"12h1d", 0, "largest first"},
		{"1.5h", 0, "whole numbers"},
		{"1w", 0, "want units"},
		{"30", 0, "want units"},
		{"-1h", 0, "whole numbers"},
		{"999999999999d", 0, "too long"},
	} {
		got, err := ParseAge(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAge(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 10 << 30: "10.0 GiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1MB", "512MiB", "1.5GiB", "0", "12", "1e3", "..MB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, n)
		}
		// Plain digits are bytes.
		if v, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64); perr == nil && v != n {
			t.Fatalf("ParseSize(%q) = %d, want %d", s, n, v)
		}
	})
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"72h", "30d", "1d12h30m5s", "0s", "9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAge(s)
		if err != nil {
			return
		}
		if d <= 0 {
			t.Fatalf("ParseAge(%q) = %v, not positive", s, d)
		}
		// Without days it reads as Go reads durations.
		if !strings.Contains(s, "d") && !strings.ContainsAny(s, " \t\n\v\f\r") {
			if want, perr := time.ParseDuration(s); perr != nil || want != d {
				t.Fatalf("ParseAge(%q) = %v; time.ParseDuration says %v, %v", s, d, want, perr)
			}
		}
	})
}
