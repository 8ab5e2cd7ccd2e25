package runner

import (
	"fmt"
	"strings"
)

// Graph holds a pipeline's steps and what each one needs.
type Graph struct {
	nodes []node
	index map[string]int
}

type node struct {
	step  Step
	needs []string
}

// Add appends a step that runs after the steps it needs.
func (g *Graph) Add(s Step, needs ...string) {
	if g.index == nil {
		g.index = map[string]int{}
	}
	g.index[s.Name()] = len(g.nodes)
	g.nodes = append(g.nodes, node{step: s, needs: needs})
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
	for _, n := range g.nodes {
		for _, d := range n.needs {
			if !seen[d] {
				return fmt.Errorf("step %q needs unknown step %q", n.step.Name(), d)
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
		for _, d := range g.nodes[g.index[name]].needs {
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
