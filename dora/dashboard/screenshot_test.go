package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavedhq/paved/dora/auth"
	"github.com/pavedhq/paved/dora/dashboard"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/server"
	"github.com/pavedhq/paved/dora/store"
	"github.com/pavedhq/paved/dora/synth"
)

// chromium finds a headless-capable Chromium: $PAVED_CHROMIUM, else
// Debian's chromium on PATH. Under CI a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PAVED_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found (.ci/run installs Debian's chromium; or set PAVED_CHROMIUM)")
	}
	t.Skip("chromium not found; install Debian's chromium or set PAVED_CHROMIUM")
	return ""
}

// The dashboard, served by the collector as paved dora serve composes it
// (real store, synthetic history ingested over HTTP), rendered by a real
// headless Chromium: the screenshot is a PNG with each key's chart drawn
// in its colour, and only the token's team on it.
func TestDashboardInChromium(t *testing.T) {
	bin := chromium(t)
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "dora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set, err := auth.Parse([]byte(fmt.Sprintf("tokens:\n  - {name: viewer, sha256: %s, teams: [team-002], rights: [read]}\n  - {name: ci, sha256: %s, teams: ['*'], rights: [ingest], rate: 1000}\n", auth.Hash("view-token"), auth.Hash("ci-token"))))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(server.New(s, ingest.Handler(s, ingest.Options{}), set, server.Options{}))
	defer srv.Close()
	hist := synth.Generate(synth.Config{Seed: 3, Teams: 3, ServicesPerTeam: 2, Start: start, Days: 84})
	for i := 0; i < len(hist.Events); i += 500 {
		b, _ := json.Marshal(hist.Events[i:min(i+500, len(hist.Events))])
		req, _ := http.NewRequest("POST", srv.URL+"/v1/events", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer ci-token")
		req.Header.Set("Content-Type", ingest.Batch)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ingest: %s", resp.Status)
		}
	}

	// A browser sends the token as Basic credentials' password.
	u, _ := url.Parse(srv.URL + "/?from=2026-01-05&to=2026-03-30&bucket=week")
	u.User = url.UserPassword("viewer", "view-token")
	dir := t.TempDir()
	shot := filepath.Join(dir, "dashboard.png")
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--hide-scrollbars", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--window-size=1400,1100", "--screenshot="+shot, u.String())
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1100 {
		t.Errorf("screenshot is %v, want 1400x1100", b)
	}
	counts := colours(img)
	for name, hex := range map[string]string{
		"deployment frequency bars": dashboard.ColorDeployments,
		"lead time line":            dashboard.ColorLeadTime,
		"change failure bars":       dashboard.ColorFailure,
		"time to restore line":      dashboard.ColorRestore,
	} {
		if n := counts[hex]; n < 150 {
			t.Errorf("%s (%s): %d pixels on the screenshot, want at least 150 (a 401 page or a blank one has none)", name, hex, n)
		}
	}
	if distinct := counts["distinct"]; distinct < 20 {
		t.Errorf("the screenshot has %d distinct colours: blank?", distinct)
	}
	if t.Failed() {
		keep := filepath.Join(os.TempDir(), "paved-dashboard-failed.png")
		if b, err := os.ReadFile(shot); err == nil && os.WriteFile(keep, b, 0o644) == nil {
			t.Logf("screenshot kept at %s", keep)
		}
	}
}

// colours counts the pixels close to each chart colour, and the distinct
// colours (under "distinct").
func colours(img image.Image) map[string]int {
	want := []string{dashboard.ColorDeployments, dashboard.ColorLeadTime, dashboard.ColorFailure, dashboard.ColorRestore}
	rgb := map[string][3]int{}
	for _, h := range want {
		var r, g, b int
		fmt.Sscanf(strings.TrimPrefix(h, "#"), "%02x%02x%02x", &r, &g, &b)
		rgb[h] = [3]int{r, g, b}
	}
	out := map[string]int{}
	seen := map[[3]int]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			p := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
			seen[p] = true
			for h, c := range rgb {
				if abs(p[0]-c[0]) <= 8 && abs(p[1]-c[1]) <= 8 && abs(p[2]-c[2]) <= 8 {
					out[h]++
				}
			}
		}
	}
	out["distinct"] = len(seen)
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
