// Package scenarios holds the ready scenario files bench runs, embedded in
// the binary so that "bench run smoke" needs no file: smoke (the default),
// peak-hour, bot-deflection, reconnect-storm, broadcast,
// agent-concurrency, connections, chaos (the crash test of bench run
// --chaos) and soak (the steady load of make soak). Each file says in its
// comments what it measures and how it is sized. The format is documented in bench/scenario/FORMAT.md;
// package scenario decodes them (scenario.LoadNamed resolves a name here).
package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// FS holds the scenario files, NAME.yaml at its root.
var FS fs.FS = files

// Default is the name of the scenario bench runs when told none.
const Default = "smoke"

// Names returns the names of the embedded scenarios (file names without
// .yaml), sorted.
func Names() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(fmt.Sprintf("scenarios: read embedded files: %v", err)) // a broken build
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Open returns the contents of the embedded scenario called name (without
// .yaml). An unknown name is an error matching fs.ErrNotExist.
func Open(name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || path.Ext(name) != "" {
		return nil, fmt.Errorf("open scenario %q: %w", name, fs.ErrNotExist)
	}
	data, err := fs.ReadFile(files, name+".yaml")
	if err != nil {
		return nil, fmt.Errorf("open scenario %q: %w", name, err)
	}
	return data, nil
}
