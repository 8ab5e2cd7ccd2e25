package sbom

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// creationTime is when documents say they were created: t when set, else
// SOURCE_DATE_EPOCH when set, else now. Only the last varies run to run.
func creationTime(t time.Time) (time.Time, error) {
	if !t.IsZero() {
		return t.UTC().Truncate(time.Second), nil
	}
	if v, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok && v != "" {
		return parseEpoch(v)
	}
	return time.Now().UTC().Truncate(time.Second), nil
}

// parseEpoch reads SOURCE_DATE_EPOCH: a non-negative decimal number of
// seconds since 1970, as the reproducible-builds specification defines it.
func parseEpoch(v string) (time.Time, error) {
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 || sec > maxEpoch {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds since 1970", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// maxEpoch is the last second RFC 3339 can write (9999-12-31T23:59:59Z).
const maxEpoch = 253402300799
