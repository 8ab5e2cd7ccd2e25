// Package lint checks a Go module's source with staticcheck (lint) and
// gosec (SAST), both linked as libraries, and gates a release on what they
// find.
//
// Run runs each tool as its own command does, one after the other (so the
// go command must be on PATH, as for go vet): staticcheck's analyzers
// through staticcheck's runner, package by package in dependency order
// with each package's facts and findings in a cache (Options.CacheDir), and
// gosec's rules and analyzers on the packages loaded from source with
// their dependencies from export data. Neither holds the whole program in
// memory. It returns one Report: every finding with its rule, severity and
// place relative to the module, and a verdict per tool. The
// report is written as SARIF 2.1.0 (one run per tool) and as JSON.
//
// Exceptions live beside the gate, never in the source: each names a rule
// (and optionally a file or glob), a reason and an expiry day, and lapses at
// the end of that day, UTC (package expiry). In-source directives
// (staticcheck's //lint:ignore, gosec's #nosec) are not honoured, so every
// accepted finding has a reason and an end date a reviewer can see.
//
// A tool that cannot run (packages that do not load or type-check, an
// analyzer that fails) fails its gate unless the tool is disabled: a check
// is opted out of explicitly, never skipped by accident.
//
// The package links staticcheck, gosec and golang.org/x/tools' SSA: heavy
// enough to stay out of paved's CLI, it runs in paved-worker.
package lint
