package export

import (
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/pavedhq/paved/dora"
)

// Row is one row of the file; its tags are the Parquet schema.
type Row struct {
	Team                       string    `parquet:"team,dict"`
	Service                    string    `parquet:"service,dict"`
	Environment                string    `parquet:"environment,dict"`
	Bucket                     string    `parquet:"bucket,dict"` // day, week or month
	Start                      time.Time `parquet:"bucket_start,timestamp(millisecond)"`
	End                        time.Time `parquet:"bucket_end,timestamp(millisecond)"` // exclusive
	Deployments                int64     `parquet:"deployments"`
	DeploymentsPerDay          float64   `parquet:"deployments_per_day"`
	LeadTimeChanges            int64     `parquet:"lead_time_changes"`
	LeadTimeMedianSeconds      float64   `parquet:"lead_time_median_seconds"`
	LeadTimeP90Seconds         float64   `parquet:"lead_time_p90_seconds"`
	FailedDeployments          int64     `parquet:"failed_deployments"`
	ChangeFailureRate          float64   `parquet:"change_failure_rate"`
	IncidentsRestored          int64     `parquet:"incidents_restored"`
	TimeToRestoreMedianSeconds float64   `parquet:"time_to_restore_median_seconds"`
	TimeToRestoreP90Seconds    float64   `parquet:"time_to_restore_p90_seconds"`
}

// Rows flattens r's rows, in its order.
func Rows(r *dora.Report) []Row {
	env := r.Query.Environment
	if env == "" {
		env = dora.Production
	}
	bucket := r.Query.Bucket
	if bucket == "" {
		bucket = dora.Week
	}
	out := make([]Row, 0, len(r.Rows))
	for _, x := range r.Rows {
		out = append(out, Row{
			Team:                       x.Team,
			Service:                    x.Service,
			Environment:                env,
			Bucket:                     string(bucket),
			Start:                      x.Start.UTC(),
			End:                        x.End.UTC(),
			Deployments:                int64(x.Deployments),
			DeploymentsPerDay:          x.DeploymentsPerDay,
			LeadTimeChanges:            int64(x.LeadTime.Count),
			LeadTimeMedianSeconds:      x.LeadTime.Median.Seconds(),
			LeadTimeP90Seconds:         x.LeadTime.P90.Seconds(),
			FailedDeployments:          int64(x.FailedDeployments),
			ChangeFailureRate:          x.ChangeFailureRate,
			IncidentsRestored:          int64(x.TimeToRestore.Count),
			TimeToRestoreMedianSeconds: x.TimeToRestore.Median.Seconds(),
			TimeToRestoreP90Seconds:    x.TimeToRestore.P90.Seconds(),
		})
	}
	return out
}

// Parquet writes r's rows to w, every column zstd-compressed.
func Parquet(w io.Writer, r *dora.Report) error {
	pw := parquet.NewGenericWriter[Row](w, parquet.Compression(&parquet.Zstd), parquet.CreatedBy("paved", "", ""))
	if _, err := pw.Write(Rows(r)); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// ReadParquet reads a file Parquet wrote.
func ReadParquet(r io.ReaderAt, size int64) ([]Row, error) {
	rows, err := parquet.Read[Row](r, size)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	return rows, nil
}
