package runner

import (
	"fmt"
	"slices"
	"strings"
)

// Graph holds a pipeline's steps and what each one needs.
type Graph struct {
	nodes   []node
	index   map[string]int
	unknown []string // steps After named before they were added
}

type node struct {
	step  Step
	needs []string
	after []string
}

// Add appends a step that runs after the steps it needs.
func (g *Graph) Add(s Step, needs ...string) {
	if g.index == nil {
		g.index = map[string]int{}
	}
	g.index[s.Name()] = len(g.nodes)
	g.nodes = append(g.nodes, node{step: s, needs: needs})
}

// After has the named step start only once the earlier steps have ended,
// however they ended: an ordering that saves work, not a dependency. A step
// that would repeat an earlier one's work if they ran side by side (both
// compiling the same packages into Go's build cache) waits for it and then
// reuses what it left, and still runs when that step failed.
func (g *Graph) After(name string, earlier ...string) {
	if i, ok := g.index[name]; ok {
		g.nodes[i].after = append(g.nodes[i].after, earlier...)
		return
	}
	// Validate reports it: a step cannot wait for an ordering it lost.
	g.unknown = append(g.unknown, name)
}

// Waits returns the steps the named step waits for: those it needs, and
// those it only starts after (see After).
func (g *Graph) Waits(name string) (needs, after []string) {
	if i, ok := g.index[name]; ok {
		return slices.Clone(g.nodes[i].needs), slices.Clone(g.nodes[i].after)
	}
	return nil, nil
}

// Steps returns the step names in the order they were added.
func (g *Graph) Steps() []string {
	names := make([]string, len(g.nodes))
	for i, n := range g.nodes {
		names[i] = n.step.Name()
	}
	return names
}

// Step returns the step with the given name, or nil.
func (g *Graph) Step(name string) Step {
	if i, ok := g.index[name]; ok {
		return g.nodes[i].step
	}
	return nil
}

// Validate checks that names are unique, needs exist and there is no cycle.
func (g *Graph) Validate() error {
	seen := map[string]bool{}
	for _, n := range g.nodes {
		name := n.step.Name()
		if name == "" || strings.ContainsAny(name, "/\\ ") {
			return fmt.Errorf("step name %q: must be non-empty with no spaces or slashes", name)
		}
		if seen[name] {
			return fmt.Errorf("step %q is declared twice", name)
		}
		seen[name] = true
	}
	if len(g.unknown) > 0 {
		return fmt.Errorf("ordering of unknown step %q", g.unknown[0])
	}
	for _, n := range g.nodes {
		for _, d := range n.needs {
			if !seen[d] {
				return fmt.Errorf("step %q needs unknown step %q", n.step.Name(), d)
			}
		}
		for _, d := range n.after {
			if !seen[d] {
				return fmt.Errorf("step %q runs after unknown step %q", n.step.Name(), d)
			}
		}
	}
	// Depth-first search for a back edge.
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("steps form a cycle: %s", strings.Join(append(path, name), " -> "))
		case done:
			return nil
		}
		state[name] = visiting
		n := g.nodes[g.index[name]]
		for _, d := range append(append([]string(nil), n.needs...), n.after...) {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, n := range g.nodes {
		if err := visit(n.step.Name(), nil); err != nil {
			return err
		}
	}
	return nil
}
