package cronjob

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Spec is what a CronJob says. The zero values of the optional fields
// leave Kubernetes' defaults, except where noted.
type Spec struct {
	Name      string // the CronJob's name: a DNS label of at most 52 characters
	Namespace string // optional
	Image     string // REPO@sha256:…
	Schedule  string
	TimeZone  string // IANA name, optional
	// ConcurrencyPolicy is Forbid (the default here: a batch job that is
	// still running is not started twice), Allow or Replace.
	ConcurrencyPolicy string
	// RestartPolicy is the pod's: OnFailure (default) or Never.
	RestartPolicy              string
	BackoffLimit               *int32
	ActiveDeadlineSeconds      *int64
	StartingDeadlineSeconds    *int64
	SuccessfulJobsHistoryLimit *int32
	FailedJobsHistoryLimit     *int32
	Suspend                    bool
	Requests, Limits           map[string]string // resource name -> quantity
	Labels                     map[string]string // added to the CronJob, its jobs and pods
}

// FieldError names the Spec field that is wrong.
type FieldError struct {
	Field string // schedule, name, resources.limits.memory, ...
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

var (
	// A CronJob's name must leave room for the 11 characters the
	// controller appends to its Jobs' names.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// Kubernetes' quantity grammar (resource.ParseQuantity).
	quantity     = regexp.MustCompile(`^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$`)
	number       = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
	resourceName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	timeZone     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)
	digestRef    = regexp.MustCompile(`^[^\s@]+@sha256:[0-9a-f]{64}$`)
)

// MaxNameLength is Kubernetes' limit on a CronJob's name.
const MaxNameLength = 52

// Validate checks the spec as the API server would, naming the field.
func (s Spec) Validate() error {
	if len(s.Name) > MaxNameLength || !dnsLabel.MatchString(s.Name) {
		return &FieldError{"name", fmt.Sprintf("%q is not a DNS label of at most %d characters (lower-case letters, digits and -)", s.Name, MaxNameLength)}
	}
	if s.Namespace != "" && (len(s.Namespace) > 63 || !dnsLabel.MatchString(s.Namespace)) {
		return &FieldError{"namespace", fmt.Sprintf("%q is not a DNS label", s.Namespace)}
	}
	if !digestRef.MatchString(s.Image) {
		return &FieldError{"image", fmt.Sprintf("%q is not a reference by digest (REPO@sha256:…)", s.Image)}
	}
	if err := ValidateSchedule(s.Schedule); err != nil {
		return &FieldError{"schedule", err.Error()}
	}
	if s.TimeZone != "" && !timeZone.MatchString(s.TimeZone) {
		return &FieldError{"timeZone", fmt.Sprintf("%q is not an IANA time zone name such as Europe/Paris", s.TimeZone)}
	}
	switch s.ConcurrencyPolicy {
	case "", "Allow", "Forbid", "Replace":
	default:
		return &FieldError{"concurrencyPolicy", fmt.Sprintf("%q: want Allow, Forbid or Replace", s.ConcurrencyPolicy)}
	}
	switch s.RestartPolicy {
	case "", "OnFailure", "Never":
	default:
		return &FieldError{"restartPolicy", fmt.Sprintf("%q: want OnFailure or Never (a Job's pods cannot restart Always)", s.RestartPolicy)}
	}
	for _, c := range []struct {
		field string
		v     *int64
		min   int64
	}{
		{"backoffLimit", i64(s.BackoffLimit), 0}, {"activeDeadlineSeconds", s.ActiveDeadlineSeconds, 1},
		{"startingDeadlineSeconds", s.StartingDeadlineSeconds, 0}, {"successfulJobsHistoryLimit", i64(s.SuccessfulJobsHistoryLimit), 0},
		{"failedJobsHistoryLimit", i64(s.FailedJobsHistoryLimit), 0},
	} {
		if c.v != nil && *c.v < c.min {
			return &FieldError{c.field, fmt.Sprintf("%d is below %d", *c.v, c.min)}
		}
	}
	for _, r := range []struct {
		field string
		m     map[string]string
	}{{"resources.requests", s.Requests}, {"resources.limits", s.Limits}} {
		for name, q := range r.m {
			if !resourceName.MatchString(name) || len(name) > 253 {
				return &FieldError{r.field, fmt.Sprintf("%q is not a resource name such as cpu or memory", name)}
			}
			if err := ValidateQuantity(q); err != nil {
				return &FieldError{r.field + "." + name, err.Error()}
			}
		}
	}
	for k, v := range s.Labels {
		if !resourceName.MatchString(k) || len(v) > 63 || (v != "" && !labelValue.MatchString(v)) {
			return &FieldError{"labels", fmt.Sprintf("%s=%s is not a Kubernetes label", k, v)}
		}
	}
	return nil
}

var labelValue = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// ValidateQuantity checks a resource quantity (100m, 1.5, 512Mi, 1e3) in
// Kubernetes' grammar; negative quantities are refused.
func ValidateQuantity(q string) error {
	m := quantity.FindStringSubmatch(q)
	if m == nil || !number.MatchString(m[1]) || strings.HasPrefix(m[1], "-") {
		return fmt.Errorf("%q is not a quantity such as 250m, 1, 512Mi or 2Gi", q)
	}
	return nil
}

func i64(v *int32) *int64 {
	if v == nil {
		return nil
	}
	x := int64(*v)
	return &x
}

// The manifest's shape: the fields of batch/v1 CronJob that paved sets,
// with their API names. A test decodes the output strictly into
// k8s.io/api's types.
type (
	object struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Metadata   metadata `json:"metadata"`
		Spec       cronSpec `json:"spec"`
	}
	metadata struct {
		Name      string            `json:"name,omitempty"`
		Namespace string            `json:"namespace,omitempty"`
		Labels    map[string]string `json:"labels,omitempty"`
	}
	cronSpec struct {
		Schedule                   string      `json:"schedule"`
		TimeZone                   string      `json:"timeZone,omitempty"`
		ConcurrencyPolicy          string      `json:"concurrencyPolicy"`
		StartingDeadlineSeconds    *int64      `json:"startingDeadlineSeconds,omitempty"`
		Suspend                    bool        `json:"suspend,omitempty"`
		SuccessfulJobsHistoryLimit *int32      `json:"successfulJobsHistoryLimit,omitempty"`
		FailedJobsHistoryLimit     *int32      `json:"failedJobsHistoryLimit,omitempty"`
		JobTemplate                jobTemplate `json:"jobTemplate"`
	}
	jobTemplate struct {
		Metadata metadata `json:"metadata"`
		Spec     jobSpec  `json:"spec"`
	}
	jobSpec struct {
		BackoffLimit          *int32      `json:"backoffLimit,omitempty"`
		ActiveDeadlineSeconds *int64      `json:"activeDeadlineSeconds,omitempty"`
		Template              podTemplate `json:"template"`
	}
	podTemplate struct {
		Metadata metadata `json:"metadata"`
		Spec     podSpec  `json:"spec"`
	}
	podSpec struct {
		RestartPolicy   string      `json:"restartPolicy"`
		SecurityContext podSecurity `json:"securityContext"`
		Containers      []container `json:"containers"`
	}
	podSecurity struct {
		RunAsNonRoot   bool           `json:"runAsNonRoot"`
		SeccompProfile seccompProfile `json:"seccompProfile"`
	}
	seccompProfile struct {
		Type string `json:"type"`
	}
	container struct {
		Name            string            `json:"name"`
		Image           string            `json:"image"`
		Resources       *resources        `json:"resources,omitempty"`
		SecurityContext containerSecurity `json:"securityContext"`
	}
	resources struct {
		Requests map[string]string `json:"requests,omitempty"`
		Limits   map[string]string `json:"limits,omitempty"`
	}
	containerSecurity struct {
		AllowPrivilegeEscalation bool         `json:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool         `json:"readOnlyRootFilesystem"`
		Capabilities             capabilities `json:"capabilities"`
	}
	capabilities struct {
		Drop []string `json:"drop"`
	}
)

// Render validates s and returns the CronJob as YAML. The same spec gives
// the same bytes.
func Render(s Spec) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	labels := map[string]string{"app.kubernetes.io/name": s.Name, "app.kubernetes.io/managed-by": "paved"}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		labels[k] = s.Labels[k]
	}
	policy := s.ConcurrencyPolicy
	if policy == "" {
		policy = "Forbid"
	}
	restart := s.RestartPolicy
	if restart == "" {
		restart = "OnFailure"
	}
	c := container{Name: s.Name, Image: s.Image, SecurityContext: containerSecurity{
		ReadOnlyRootFilesystem: true, Capabilities: capabilities{Drop: []string{"ALL"}}}}
	if len(s.Requests) > 0 || len(s.Limits) > 0 {
		c.Resources = &resources{Requests: s.Requests, Limits: s.Limits}
	}
	obj := object{
		APIVersion: "batch/v1", Kind: "CronJob",
		Metadata: metadata{Name: s.Name, Namespace: s.Namespace, Labels: labels},
		Spec: cronSpec{
			Schedule: s.Schedule, TimeZone: s.TimeZone, ConcurrencyPolicy: policy, StartingDeadlineSeconds: s.StartingDeadlineSeconds,
			Suspend: s.Suspend, SuccessfulJobsHistoryLimit: s.SuccessfulJobsHistoryLimit, FailedJobsHistoryLimit: s.FailedJobsHistoryLimit,
			JobTemplate: jobTemplate{Metadata: metadata{Labels: labels}, Spec: jobSpec{
				BackoffLimit: s.BackoffLimit, ActiveDeadlineSeconds: s.ActiveDeadlineSeconds,
				Template: podTemplate{Metadata: metadata{Labels: labels}, Spec: podSpec{
					RestartPolicy:   restart,
					SecurityContext: podSecurity{RunAsNonRoot: true, SeccompProfile: seccompProfile{Type: "RuntimeDefault"}},
					Containers:      []container{c},
				}},
			}},
		},
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	return append([]byte("# Rendered by paved from paved.yaml; the image is pinned by digest.\n"), b...), nil
}
