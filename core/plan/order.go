package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Node is a plugin as far as ordering is concerned.
type Node struct {
	Name      string
	DependsOn []string
}

// Order returns the plugin names so that every plugin comes before the
// plugins it depends on. Plugins unrelated by dependencies keep name order,
// so the result is deterministic. A dependency on a plugin that is not
// present is ignored; a cycle is an error naming it.
func Order(nodes []Node) ([]string, error) {
	present := map[string]bool{}
	for _, n := range nodes {
		if present[n.Name] {
			return nil, fmt.Errorf("two plugins are named %q", n.Name)
		}
		present[n.Name] = true
	}
	// Edge dependent -> dependency; count how many dependents point at each.
	dependents := map[string]int{}
	deps := map[string][]string{}
	for _, n := range nodes {
		for _, d := range n.DependsOn {
			if present[d] && d != n.Name && !slices.Contains(deps[n.Name], d) {
				deps[n.Name] = append(deps[n.Name], d)
				dependents[d]++
			}
		}
	}
	var ready, order []string
	for _, n := range nodes {
		if dependents[n.Name] == 0 {
			ready = append(ready, n.Name)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		next := ready[0]
		ready = ready[1:]
		order = append(order, next)
		for _, d := range deps[next] {
			dependents[d]--
			if dependents[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(order) != len(nodes) {
		var cyclic []string
		for _, n := range nodes {
			if !slices.Contains(order, n.Name) {
				cyclic = append(cyclic, n.Name)
			}
		}
		slices.Sort(cyclic)
		return nil, fmt.Errorf("plugins depend on each other in a cycle: %s", strings.Join(cyclic, ", "))
	}
	return order, nil
}
