package static

import (
	"path"
	"strings"
)

// Hashed reports whether a file's name carries a content hash, so that its
// content can never change under that name and browsers may keep it for
// good. The rule, for the name without its directory and last extension
// (and a ".chunk" before it, as webpack writes): it ends with "-" or "."
// and a hash, which is either
//   - 8 characters of [A-Za-z0-9_-] with a digit, or with a lower-case letter
//     and an upper-case one after the first character (Rollup's and Vite's
//     base64url hashes, "index-BtlwJ2Qs.js"; esbuild's "app-QXJ7WLS2.js";
//     webpack's and Parcel's [contenthash:8]), or
//   - 16 to 64 hexadecimal digits with a digit and a letter (webpack's
//     default [contenthash], 20 digits).
//
// A word such as "logo-original.png" or "background.png" is not a hash.
// The rule errs towards "not hashed": such a file is revalidated with its
// ETag on every use, which costs a round trip, never a stale page.
func Hashed(name string) bool {
	base := path.Base(name)
	ext := path.Ext(base)
	if ext == "" || ext == base {
		return false
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(base, ext), ".chunk")
	if hexHash(stem) {
		return true
	}
	if len(stem) < 10 || !isSep(stem[len(stem)-9]) {
		return false
	}
	return shortHash(stem[len(stem)-8:])
}

func isSep(c byte) bool { return c == '-' || c == '.' }

// shortHash is the 8-character case of Hashed.
func shortHash(h string) bool {
	var digit, lower, innerUpper bool
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			innerUpper = innerUpper || i > 0
		case c == '_' || c == '-':
		default:
			return false
		}
	}
	return digit || (lower && innerUpper)
}

// hexHash is the long hexadecimal case of Hashed: the stem ends with a
// separator and 16 to 64 hex digits.
func hexHash(stem string) bool {
	i := strings.LastIndexAny(stem, "-.")
	if i < 1 {
		return false
	}
	h := stem[i+1:]
	if len(h) < 16 || len(h) > 64 {
		return false
	}
	var digit, letter bool
	for j := 0; j < len(h); j++ {
		c := h[j]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			letter = true
		default:
			return false
		}
	}
	return digit && letter
}
