package dashboard

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pavedhq/paved/dora/auth"
)

// Rendering is a pure function of a Report, so these use a fixed one.

func TestRenderDrawsEveryBucket(t *testing.T) {
	r := fixedReport()
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// 3 services × 8 weeks: a deployment bar and a failure-rate bar each
	// (zero-height bars included), and a lead-time dot per bucket.
	if n := strings.Count(page, `fill="`+ColorDeployments+`"`); n != 24 {
		t.Errorf("%d deployment bars, want 24", n)
	}
	if n := strings.Count(page, `<circle`); n != 24+9 { // 24 lead-time dots, 3 restore dots per service
		t.Errorf("%d dots, want 33", n)
	}
	for _, s := range []string{"payments", "ledger", "search", "indexer", "elite", "high", "medium", "low", "0.36/day", "5h median, 30h p90 (40)"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page does not show %q", s)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}
}

func TestRenderEscapesNames(t *testing.T) {
	r := fixedReport()
	r.Totals[0].Team = `<script>alert(1)</script>`
	r.Totals[0].Service = `"><img src=x onerror=alert(1)>`
	var b bytes.Buffer
	if err := Render(&b, r); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "<script>alert") || strings.Contains(s, "<img") {
		t.Errorf("names reach the page unescaped")
	}
}

func TestHandlerEmptyAndForbidden(t *testing.T) {
	h := Handler(fixed{fixedReport()}, Options{})
	get := func(path string, c *auth.Claims) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req = req.WithContext(auth.WithClaims(req.Context(), c))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := get("/", &auth.Claims{Name: "nobody", Teams: []string{"other"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "No deployments or incidents") || strings.Contains(rec.Body.String(), "payments") {
		t.Errorf("a token for a team with no data: %d", rec.Code)
	}
	if rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	if rec := get("/?team=payments", &auth.Claims{Name: "s", Teams: []string{"search"}}); rec.Code != http.StatusForbidden {
		t.Errorf("another team: %d, want 403", rec.Code)
	}
	if rec := get("/?bucket=hour", &auth.Claims{Name: "s"}); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "parameter bucket") {
		t.Errorf("bad bucket: %d %s", rec.Code, rec.Body)
	}
}

func TestRenderLinksEachTeam(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, fixedReport()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<a href="/?bucket=week&amp;from=2026-09-07&amp;team=payments&amp;to=2026-11-02">payments</a>`, `team=search`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s", want)
		}
	}
}
