package pipelines

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pavedhq/paved/modules/cronjob"
)

// JobConfig is paved.yaml's job: section, for batch jobs (python-batch):
// what the image runs, where its dependencies are locked, and the
// Kubernetes CronJob that runs it on a schedule.
type JobConfig struct {
	// Module is run as python3 -m MODULE. Default: the one top-level
	// package with a __main__.py.
	Module string `yaml:"module"`
	// Entrypoint, when set, is the image's whole entrypoint instead
	// (["python3", "-m", "job", "--verbose"]).
	Entrypoint []string `yaml:"entrypoint"`
	// Requirements is the lock, relative to the service: a requirements
	// file with every requirement pinned, a uv.lock or a poetry.lock.
	// Default requirements.txt, else uv.lock or poetry.lock.
	Requirements string `yaml:"requirements"`
	// Schedule (cron syntax, or @daily ...) makes the run write a
	// Kubernetes CronJob for the image; with none, no manifest.
	Schedule                   string          `yaml:"schedule"`
	TimeZone                   string          `yaml:"timeZone"`
	Namespace                  string          `yaml:"namespace"`
	ConcurrencyPolicy          string          `yaml:"concurrencyPolicy"` // default Forbid
	RestartPolicy              string          `yaml:"restartPolicy"`     // default OnFailure
	BackoffLimit               *int32          `yaml:"backoffLimit"`
	ActiveDeadlineSeconds      *int64          `yaml:"activeDeadlineSeconds"`
	StartingDeadlineSeconds    *int64          `yaml:"startingDeadlineSeconds"`
	SuccessfulJobsHistoryLimit *int32          `yaml:"successfulJobsHistoryLimit"`
	FailedJobsHistoryLimit     *int32          `yaml:"failedJobsHistoryLimit"`
	Suspend                    bool            `yaml:"suspend"`
	Resources                  ResourcesConfig `yaml:"resources"`
}

// ResourcesConfig is a container's resource requests and limits, as
// Kubernetes spells them (cpu: 250m, memory: 256Mi).
type ResourcesConfig struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

// CronJob is the CronJob spec the job: section asks for, for the named
// CronJob and image.
func (j JobConfig) CronJob(name, image string) cronjob.Spec {
	return cronjob.Spec{Name: name, Namespace: j.Namespace, Image: image, Schedule: j.Schedule, TimeZone: j.TimeZone,
		ConcurrencyPolicy: j.ConcurrencyPolicy, RestartPolicy: j.RestartPolicy, BackoffLimit: j.BackoffLimit,
		ActiveDeadlineSeconds: j.ActiveDeadlineSeconds, StartingDeadlineSeconds: j.StartingDeadlineSeconds,
		SuccessfulJobsHistoryLimit: j.SuccessfulJobsHistoryLimit, FailedJobsHistoryLimit: j.FailedJobsHistoryLimit,
		Suspend: j.Suspend, Requests: j.Resources.Requests, Limits: j.Resources.Limits}
}

var pythonModule = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// placeholderImage stands for the image while paved.yaml is checked: the
// real one is known once published.
const placeholderImage = "example.invalid/job@sha256:0000000000000000000000000000000000000000000000000000000000000000"

func (j JobConfig) validate() error {
	field := ConfigFile + ": job."
	if j.Module != "" && !pythonModule.MatchString(j.Module) {
		return &ConfigError{Field: field + "module", Msg: fmt.Sprintf("%q is not a Python module name such as job or reports.nightly", j.Module)}
	}
	if j.Module != "" && len(j.Entrypoint) > 0 {
		return &ConfigError{Field: field + "entrypoint", Msg: "module and entrypoint exclude each other: the entrypoint says the whole command"}
	}
	for i, a := range j.Entrypoint {
		if a == "" {
			return &ConfigError{Field: fmt.Sprintf("%sentrypoint[%d]", field, i), Msg: "empty argument"}
		}
	}
	if j.Schedule == "" {
		if j.TimeZone != "" || j.ConcurrencyPolicy != "" || j.StartingDeadlineSeconds != nil {
			return &ConfigError{Field: field + "schedule", Msg: "the CronJob settings need a schedule, such as \"30 2 * * *\""}
		}
		return nil
	}
	if err := j.CronJob("job", placeholderImage).Validate(); err != nil {
		var fe *cronjob.FieldError
		if errors.As(err, &fe) {
			return &ConfigError{Field: field + fe.Field, Msg: fe.Msg}
		}
		return &ConfigError{Field: ConfigFile + ": job", Msg: err.Error()}
	}
	return nil
}
