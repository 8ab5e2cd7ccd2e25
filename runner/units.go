package runner

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// sizeUnits are the suffixes ParseSize accepts: SI (powers of 1000) and IEC
// (powers of 1024), as disk and du report them. A bare "M" or "G" is refused
// rather than guessed.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseSize reads a size such as "512MiB", "2GB", "1.5GiB" or "1048576"
// (bytes). Units are case-insensitive.
func ParseSize(s string) (int64, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, unit)
	}
	if num == "" || strings.Count(num, ".") > 1 || num == "." || strings.HasPrefix(num, ".") || strings.HasSuffix(num, ".") {
		return 0, fmt.Errorf("size %q: want a number and a unit, such as 512MiB or 2GB", s)
	}
	// Exact arithmetic: "0.1GB" is 100000000 bytes, not 99999999.
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("size %q: %q is not a number", s, num)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsInt64() {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n.Int64(), nil
}

// splitNumber cuts s after its leading digits and dots.
func splitNumber(s string) (num, rest string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// ParseAge reads a duration such as "72h", "30d" or "1d12h": whole numbers
// of days (24 h), hours, minutes and seconds, largest first. It must be
// positive.
func ParseAge(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, fmt.Errorf("duration %q: want a number and a unit, such as 72h or 30d", s)
	}
	var total time.Duration
	next := 0 // units must come largest first, each once
	for rest != "" {
		num, after := splitNumber(rest)
		if num == "" || strings.Contains(num, ".") {
			return 0, fmt.Errorf("duration %q: want whole numbers with units d, h, m, s, such as 72h or 30d", s)
		}
		found := false
		for i := next; i < len(units); i++ {
			if strings.HasPrefix(after, units[i].suffix) {
				n, err := strconv.ParseInt(num, 10, 64)
				if err != nil || n > int64(math.MaxInt64/units[i].d) {
					return 0, fmt.Errorf("duration %q: too long", s)
				}
				add := time.Duration(n) * units[i].d
				if total > math.MaxInt64-add {
					return 0, fmt.Errorf("duration %q: too long", s)
				}
				total += add
				rest, next, found = strings.TrimSpace(after[len(units[i].suffix):]), i+1, true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("duration %q: want units d, h, m, s, largest first, such as 72h or 1d12h", s)
		}
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration %q: must be more than zero", s)
	}
	return total, nil
}

// FormatSize prints n bytes for people, in IEC units.
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
