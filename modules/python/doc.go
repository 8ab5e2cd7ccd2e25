// Package python builds and tests Python batch jobs the way CI should:
// dependencies installed from a lock (a requirements file where every
// requirement is pinned with ==, usually with --hash) into a directory of
// their own, so they make one image layer; and pytest run with coverage
// (pytest-cov) and a coverage gate, leaving a JUnit XML report and a
// Cobertura coverage report for CI.
//
// The interpreter is an Interpreter: by default python3 on PATH, or the one
// $PAVED_PYTHON names. pip uses the index the user's pip configuration
// names (pip.conf, PIP_INDEX_URL, PIP_FIND_LINKS, ...); paved adds none.
//
// The parsers are exported so they can be used (and fuzzed) on their own:
// ParseRequirements reads a lock, ParseCoverage a Cobertura report,
// ParseJUnit pytest's JUnit report, ParseWheelTags a wheel's WHEEL file.
package python
