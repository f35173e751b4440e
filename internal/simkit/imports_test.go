package simkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// importers are the packages that may import simkit outside tests: the
// simulators and the programs that only run them. Production code must
// not (the packaged binaries are checked in internal/daemon).
var importers = map[string]bool{
	"splynx/splynxsim":                  true,
	"gateways/integrapay/integrapaysim": true,
	"gateways/ippay/ippaysim":           true,
	"cmd/splynx-sim":                    true,
	"cmd/splynx-bench":                  true,
	"internal/demo":                     true,
}

func TestOnlySimulatorsImportTheKit(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goCmd); err != nil {
			t.Skip("no go command to list imports")
		}
	}
	cmd := exec.Command(goCmd, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/splynx-pay/splynx-pay/"
	users := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp != module+"internal/simkit" {
				continue
			}
			users++
			if rel := strings.TrimPrefix(f[0], module); !importers[rel] {
				t.Errorf("%s imports internal/simkit; only simulators and the programs that run them may", rel)
			}
		}
	}
	if users < 3 {
		t.Errorf("%d packages import internal/simkit, want at least the three simulators: the check reads the wrong list", users)
	}
}
