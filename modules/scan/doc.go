// Package scan finds known vulnerabilities in a built image and in the Go
// source it came from, and gates a release on them.
//
// Run scans every platform of an image index with Trivy's detectors and
// database, in-process, over the packages Syft catalogues in the image (the
// catalogue the sbom module writes: OS packages of the base with their
// source packages, Go binaries' modules, installed npm and Python packages),
// and the source with govulncheck, which also says
// whether a vulnerable symbol is actually called. The findings of both are
// merged into one Report with counts by severity, and a Gate decides whether
// they block: by default a CRITICAL finding with a fix available fails it,
// and Run returns a *GateError alongside the report.
//
// Air-gapped use is the first case: Options.DBDir names a directory laid out
// as Trivy's cache (db/trivy.db, db/metadata.json), optionally holding a Go
// vulnerability database in govulndb/. With DBDir set no scanner touches the
// network, and a scanner whose database is missing is skipped with a
// warning in the report. Without DBDir, Trivy's database is downloaded into
// Options.CacheDir and govulncheck queries vuln.go.dev.
//
// Only Trivy's detectors are linked, not its analyzers: those bring its
// misconfiguration, secret and licence scanners and their dependencies
// (Kubernetes, Helm, OPA), which paved does not run. govulncheck builds its call graph only when the source imports a vulnerable package
// (Report.CallGraph): otherwise the package-level scan already has every
// finding the symbol-level one would report.
//
// Trivy logs through log/slog's default logger and keeps its database in
// package state, so scans in one process are serialised, and the buffering
// logger Trivy installs when it is linked is replaced by a silent one unless
// the program has set its own.
package scan
