package cronjob

import (
	"errors"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

const testImage = "registry.example/data/nightly-report@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func ptr[T any](v T) *T { return &v }

func TestRenderDecodesAsKubernetesCronJob(t *testing.T) {
	spec := Spec{Name: "nightly-report", Namespace: "data", Image: testImage, Schedule: "30 2 * * *", TimeZone: "Europe/Paris",
		BackoffLimit: ptr[int32](2), ActiveDeadlineSeconds: ptr[int64](3600), SuccessfulJobsHistoryLimit: ptr[int32](3),
		Requests: map[string]string{"cpu": "100m", "memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"},
		Labels: map[string]string{"team": "data"}}
	b, err := Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	var cj batchv1.CronJob
	if err := yaml.UnmarshalStrict(b, &cj); err != nil {
		t.Fatalf("the manifest does not decode strictly as batch/v1 CronJob: %v\n%s", err, b)
	}
	if cj.APIVersion != "batch/v1" || cj.Kind != "CronJob" || cj.Name != "nightly-report" || cj.Namespace != "data" {
		t.Errorf("type or metadata: %s %s %s/%s", cj.APIVersion, cj.Kind, cj.Namespace, cj.Name)
	}
	s := cj.Spec
	if s.Schedule != "30 2 * * *" || s.TimeZone == nil || *s.TimeZone != "Europe/Paris" || s.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("schedule %q, time zone %v, concurrency %q", s.Schedule, s.TimeZone, s.ConcurrencyPolicy)
	}
	if s.SuccessfulJobsHistoryLimit == nil || *s.SuccessfulJobsHistoryLimit != 3 || s.FailedJobsHistoryLimit != nil {
		t.Errorf("history limits: %v %v", s.SuccessfulJobsHistoryLimit, s.FailedJobsHistoryLimit)
	}
	js := s.JobTemplate.Spec
	if js.BackoffLimit == nil || *js.BackoffLimit != 2 || js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds != 3600 {
		t.Errorf("job: backoff %v, deadline %v", js.BackoffLimit, js.ActiveDeadlineSeconds)
	}
	pod := js.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("restart policy %q", pod.RestartPolicy)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("the pod does not require a nonroot user: %+v", pod.SecurityContext)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != testImage {
		t.Errorf("image %q, want %q", c.Image, testImage)
	}
	if got := c.Resources.Requests[corev1.ResourceCPU]; got.Cmp(resource.MustParse("100m")) != 0 {
		t.Errorf("cpu request %s", got.String())
	}
	if got := c.Resources.Limits[corev1.ResourceMemory]; got.Cmp(resource.MustParse("256Mi")) != 0 {
		t.Errorf("memory limit %s", got.String())
	}
	if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("privilege escalation not turned off: %+v", c.SecurityContext)
	}
	for _, l := range []map[string]string{cj.Labels, cj.Spec.JobTemplate.Labels, js.Template.Labels} {
		if l["team"] != "data" || l["app.kubernetes.io/name"] != "nightly-report" {
			t.Errorf("labels %v", l)
		}
	}
	again, err := Render(spec)
	if err != nil || string(again) != string(b) {
		t.Errorf("the same spec rendered differently:\n%s\n---\n%s", b, again)
	}
}

func TestRenderDefaults(t *testing.T) {
	b, err := Render(Spec{Name: "job", Image: testImage, Schedule: "@hourly"})
	if err != nil {
		t.Fatal(err)
	}
	var cj batchv1.CronJob
	if err := yaml.UnmarshalStrict(b, &cj); err != nil {
		t.Fatal(err)
	}
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("defaults: %q %q", cj.Spec.ConcurrencyPolicy, cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy)
	}
	if cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Resources.Requests != nil || cj.Namespace != "" || cj.Spec.TimeZone != nil {
		t.Errorf("unset fields were set: %s", b)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	ok := Spec{Name: "job", Image: testImage, Schedule: "0 * * * *"}
	for _, tc := range []struct {
		change func(*Spec)
		field  string
	}{
		{func(s *Spec) { s.Schedule = "" }, "schedule"},
		{func(s *Spec) { s.Schedule = "61 * * * *" }, "schedule"},
		{func(s *Spec) { s.Schedule = "* * * *" }, "schedule"},
		{func(s *Spec) { s.Schedule = "CRON_TZ=UTC 0 * * * *" }, "schedule"},
		{func(s *Spec) { s.Name = "Nightly_Report" }, "name"},
		{func(s *Spec) { s.Name = strings.Repeat("a", 53) }, "name"},
		{func(s *Spec) { s.Image = "registry.example/job:latest" }, "image"},
		{func(s *Spec) { s.ConcurrencyPolicy = "forbid" }, "concurrencyPolicy"},
		{func(s *Spec) { s.RestartPolicy = "Always" }, "restartPolicy"},
		{func(s *Spec) { s.BackoffLimit = ptr[int32](-1) }, "backoffLimit"},
		{func(s *Spec) { s.ActiveDeadlineSeconds = ptr[int64](0) }, "activeDeadlineSeconds"},
		{func(s *Spec) { s.Limits = map[string]string{"memory": "lots"} }, "resources.limits.memory"},
		{func(s *Spec) { s.Requests = map[string]string{"cpu": "-1"} }, "resources.requests.cpu"},
		{func(s *Spec) { s.TimeZone = "Paris time" }, "timeZone"},
	} {
		s := ok
		tc.change(&s)
		_, err := Render(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: got %v, want an error naming %s", s, err, tc.field)
		}
	}
	if _, err := Render(ok); err != nil {
		t.Errorf("valid spec refused: %v", err)
	}
}

func TestValidateSchedule(t *testing.T) {
	for _, s := range []string{"30 2 * * *", "*/15 * * * *", "0 0 1,15 * MON-FRI", "@daily", "@weekly", "0 9 * JAN,JUL SUN"} {
		if err := ValidateSchedule(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"", "every day", "0 0 32 * *", "0 24 * * *", "* * * * * *", "TZ=UTC 0 0 * * *", "@fortnightly"} {
		if err := ValidateSchedule(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzValidateSchedule renders every schedule the validator accepts and
// checks the manifest still decodes as a CronJob with that schedule.
func FuzzValidateSchedule(f *testing.F) {
	for _, s := range []string{"30 2 * * *", "*/5 1-3 * * MON", "@daily", "0 0 31 2 *", "? * * * *", "TZ=UTC 0 * * * *", "0 0 * * 7", " 0 0 * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateSchedule(s) != nil {
			return
		}
		b, err := Render(Spec{Name: "job", Image: testImage, Schedule: s})
		if err != nil {
			t.Fatalf("accepted schedule %q not rendered: %v", s, err)
		}
		var cj batchv1.CronJob
		if err := yaml.UnmarshalStrict(b, &cj); err != nil {
			t.Fatalf("schedule %q: %v", s, err)
		}
		if cj.Spec.Schedule != s {
			t.Fatalf("schedule %q came back as %q", s, cj.Spec.Schedule)
		}
	})
}

// FuzzValidateQuantity checks the quantity grammar against Kubernetes'
// own parser: what paved accepts, the API server accepts too.
func FuzzValidateQuantity(f *testing.F) {
	for _, s := range []string{"100m", "1", "0.5", "512Mi", "2Gi", "1e3", ".5", "1.", "-1", "1Q", "1ki", "+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateQuantity(s) != nil {
			return
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			t.Fatalf("paved accepts %q, Kubernetes does not: %v", s, err)
		}
		if q.Sign() < 0 {
			t.Fatalf("negative quantity %q accepted", s)
		}
	})
}
