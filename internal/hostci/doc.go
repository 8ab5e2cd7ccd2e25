// Package hostci translates a run report into the conventions of the CI
// system that ran it: GitHub Actions' outputs, step summary, annotations
// and log groups; Tekton's TaskRun results. It reads the report, the files
// the report names and the host's variables, and nothing else, so another
// CI system is one more file here (and its detection in runner).
package hostci
