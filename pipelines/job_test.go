package pipelines

import (
	"errors"
	"strings"
	"testing"
)

func TestJobConfig(t *testing.T) {
	c, err := ParseConfig([]byte("job:\n  module: job\n  schedule: \"30 2 * * *\"\n  resources:\n    limits: {memory: 128Mi}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Job.Module != "job" || c.Job.Schedule != "30 2 * * *" || c.Job.Resources.Limits["memory"] != "128Mi" {
		t.Errorf("job %+v", c.Job)
	}
	for _, tc := range []struct{ yaml, field string }{
		{"job:\n  schedule: \"61 * * * *\"\n", "paved.yaml: job.schedule"},
		{"job:\n  schedule: \"@daily\"\n  concurrencyPolicy: Sometimes\n", "paved.yaml: job.concurrencyPolicy"},
		{"job:\n  schedule: \"@daily\"\n  resources:\n    requests: {cpu: lots}\n", "paved.yaml: job.resources.requests.cpu"},
		{"job:\n  timeZone: Europe/Paris\n", "paved.yaml: job.schedule"},
		{"job:\n  module: my-job\n", "paved.yaml: job.module"},
		{"job:\n  module: job\n  entrypoint: [python3, x.py]\n", "paved.yaml: job.entrypoint"},
		{"job:\n  schedul: \"@daily\"\n", "paved.yaml: job.schedul"},
		{"job:\n  resources:\n    limit: {}\n", "paved.yaml: job.resources.limit"},
	} {
		_, err := ParseConfig([]byte(tc.yaml))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%q: got %v, want an error naming %s", tc.yaml, err, tc.field)
		}
	}
	if _, err := ParseConfig([]byte("job:\n  schedule: \"@daily\"\n  resources:\n    requests: {cpu: 250m}\n")); err != nil && strings.Contains(err.Error(), "job") {
		t.Errorf("valid job refused: %v", err)
	}
}
