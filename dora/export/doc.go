// Package export writes a Report as Parquet for a data warehouse: one row
// per team, service and bucket, zstd-compressed, durations in seconds.
package export
