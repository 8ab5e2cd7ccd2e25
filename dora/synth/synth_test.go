package synth

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestReproducible(t *testing.T) {
	cfg := Config{Seed: 42, Teams: 6, Days: 90, Pipeline: true}
	a, b := Generate(cfg), Generate(cfg)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("the same config generated different histories")
	}
	cfg.Seed = 43
	if c := Generate(cfg); reflect.DeepEqual(a.Events, c.Events) {
		t.Fatal("another seed generated the same history")
	}
	kinds := map[string]int{}
	ids := map[string]bool{}
	for _, e := range a.Events {
		kinds[strings.Join(strings.Split(e.Type, ".")[2:4], ".")]++
		if ids[e.Source+"/"+e.ID] {
			t.Fatalf("duplicate event id %s/%s", e.Source, e.ID)
		}
		ids[e.Source+"/"+e.ID] = true
	}
	for _, k := range []string{"service.deployed", "service.rolledback", "incident.detected", "incident.resolved", "pipelinerun.started", "taskrun.finished", "artifact.published"} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
	var squash, batched bool
	for _, e := range a.Events {
		var d struct {
			CustomData struct {
				Commits []struct{ SHA string } `json:"commits"`
			} `json:"customData"`
		}
		json.Unmarshal(e.Data, &d)
		switch n := len(d.CustomData.Commits); {
		case n == 1:
			squash = true
		case n >= 3:
			batched = true
		}
	}
	if !squash || !batched {
		t.Errorf("want deployments of one commit and of three or more: %v %v", squash, batched)
	}
}
