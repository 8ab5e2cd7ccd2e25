package sarif

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// A run with an accepted finding: go-sarif leaves null members in the
// suppression, which Write drops; rules and results are lists even when
// empty; the location keeps its line and column, the path escaped.
func TestWrite(t *testing.T) {
	found := NewRun(sarif.NewDriver("found").WithInformationURI("https://example.com/"))
	found.Tool.Driver.Rules = append(found.Tool.Driver.Rules, sarif.NewRule("R1"))
	found.AddResult(sarif.NewRuleResult("R1").WithRuleIndex(0).WithLevel("error").WithMessage(sarif.NewTextMessage("m")).
		WithLocations([]*sarif.Location{Location("a b/c.go", 3, 4)}).WithSuppression(Accepted("not reachable")))
	found.AddResult(sarif.NewRuleResult("R1").WithRuleIndex(0).WithLevel("note").WithMessage(sarif.NewTextMessage("n")).
		WithLocations([]*sarif.Location{Location("d.go", 0, 7)}))
	empty := NewRun(sarif.NewDriver("empty"))
	var buf bytes.Buffer
	if err := Write(&buf, []*sarif.Run{found, empty}); err != nil {
		t.Fatal(err)
	}
	// Members in the order encoding/json writes a map's: sorted.
	want := `{
  "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json",
  "runs": [
    {
      "results": [
        {
          "level": "error",
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "a%20b/c.go"
                },
                "region": {
                  "startColumn": 4,
                  "startLine": 3
                }
              }
            }
          ],
          "message": {
            "text": "m"
          },
          "ruleId": "R1",
          "ruleIndex": 0,
          "suppressions": [
            {
              "justification": "not reachable",
              "kind": "external",
              "status": "accepted"
            }
          ]
        },
        {
          "level": "note",
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "d.go"
                }
              }
            }
          ],
          "message": {
            "text": "n"
          },
          "ruleId": "R1",
          "ruleIndex": 0
        }
      ],
      "tool": {
        "driver": {
          "informationUri": "https://example.com/",
          "name": "found",
          "rules": [
            {
              "id": "R1"
            }
          ]
        }
      }
    },
    {
      "results": [],
      "tool": {
        "driver": {
          "name": "empty",
          "rules": []
        }
      }
    }
  ],
  "version": "2.1.0"
}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("SARIF (-want +got):\n%s", diff)
	}
	if strings.Contains(buf.String(), "null") {
		t.Errorf("the log holds a null:\n%s", buf.String())
	}
}

// The driver's version is the linked module's (its replacement's when
// replaced); a module the program does not link, or the program itself,
// has none. (A test binary records no dependencies, hence the BuildInfo.)
func TestModuleVersion(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "example.com/prog", Version: "v1.0.0"}, Deps: []*debug.Module{
		{Path: "honnef.co/go/tools", Version: "v0.6.1"},
		{Path: "github.com/securego/gosec/v2", Version: "v2.22.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v2.22.1"}},
	}}
	for path, want := range map[string]string{"honnef.co/go/tools": "v0.6.1", "github.com/securego/gosec/v2": "v2.22.1", "example.com/prog": "", "example.com/not/linked": ""} {
		if got := depVersion(bi, path); got != want {
			t.Errorf("depVersion(%q) = %q, want %q", path, got, want)
		}
	}
	if got := ModuleVersion("example.com/not/linked"); got != "" {
		t.Errorf("ModuleVersion of a module not linked = %q, want none", got)
	}
}
