// Package expiry gives the expiry date of a vulnerability exception one
// meaning wherever paved reads one: paved.yaml's scan.ignore, a promotion
// policy's scan.ignore and scan.Ignore. An exception that expires on a day
// is honoured through the end of that day, UTC, and not after:
// "expires: 2026-12-31" holds until 2027-01-01T00:00:00Z.
//
// It has no dependencies, so the light packages that parse settings and
// the scanner that applies them share it.
package expiry

import (
	"fmt"
	"time"
)

// Layout is how an expiry is written.
const Layout = time.DateOnly

// Parse reads a date written YYYY-MM-DD and returns the start of that day,
// UTC. Anything else (a time of day, a zone, spaces) is an error: an
// exception names a day.
func Parse(s string) (time.Time, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want a date YYYY-MM-DD", s)
	}
	return t.UTC(), nil
}

// End is the first instant at which an exception expiring on the day of t
// (UTC) is no longer honoured: midnight UTC after that day.
func End(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// Honoured reports whether an exception expiring on the day of expires is
// honoured at now. Only the date of expires counts; the zero time never
// expires.
func Honoured(expires, now time.Time) bool {
	return expires.IsZero() || now.Before(End(expires))
}

// Day writes the day of t as Parse reads it.
func Day(t time.Time) string { return t.UTC().Format(Layout) }
