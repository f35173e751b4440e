package daemon

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

const module = "github.com/splynx-pay/splynx-pay"

// packagedTags are the build tags of the Debian package's go build line
// in debian/rules, so this test checks the binaries as they ship.
func packagedTags(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "debian", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "$(GO) build") {
			continue
		}
		m := regexp.MustCompile(`-tags[ =]'?([^' ]+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("debian/rules builds without -tags: %s", strings.TrimSpace(line))
		}
		return m[1]
	}
	t.Fatal("no go build line in debian/rules")
	return ""
}

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no go command to list the packaged build's packages")
	}
	return p
}

// The packaged binaries link no simulator (nor internal/simkit, their shared
// fault and request-log kit, nor internal/simstack, the stack tests and the
// demo build on: both carry "sim" in their names), not the demo, and not the
// other add-on's gateway client: what ships in /usr/bin talks to real
// Splynx and its own gateway only.
func TestPackagedBuildHasNoSimulators(t *testing.T) {
	tags := packagedTags(t)
	if !strings.Contains(tags, "nodemo") {
		t.Fatalf("debian/rules builds with -tags %s, without nodemo", tags)
	}
	goCmd := goTool(t)
	for _, c := range []struct{ cmd, own, other string }{
		{"splynx-integrapay", "gateways/integrapay", "gateways/ippay"},
		{"splynx-ippay", "gateways/ippay", "gateways/integrapay"},
	} {
		t.Run(c.cmd, func(t *testing.T) {
			cmd := exec.Command(goCmd, "list", "-deps", "-tags", tags, "./cmd/"+c.cmd)
			cmd.Dir = filepath.Join("..", "..")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			deps := map[string]bool{}
			for _, p := range strings.Fields(string(out)) {
				deps[p] = true
				rel, ours := strings.CutPrefix(p, module+"/")
				switch {
				case !ours:
				case strings.Contains(path.Base(rel), "sim"), rel == "internal/simkit", rel == "internal/demo", strings.HasPrefix(rel, "internal/demo/"):
					t.Errorf("%s links %s", c.cmd, p)
				case rel == c.other || strings.HasPrefix(rel, c.other+"/"):
					t.Errorf("%s links the other add-on's gateway %s", c.cmd, p)
				}
			}
			// The rule is only worth something if the list is the real one.
			for _, want := range []string{c.own, "internal/daemon", "web", "sync/charge"} {
				if !deps[module+"/"+want] {
					t.Errorf("%s does not link %s: the package list is not the binary's", c.cmd, want)
				}
			}
			// ... and if the names it looks for are the ones the demo
			// build really links.
			demo := exec.Command(goCmd, "list", "-deps", "./cmd/"+c.cmd)
			demo.Dir = cmd.Dir
			out, err = demo.Output()
			if err != nil {
				t.Fatalf("go list (demo build): %v", err)
			}
			for _, want := range []string{"internal/simkit", "internal/simstack", "internal/demo", "splynx/splynxsim"} {
				if !strings.Contains(" "+strings.Join(strings.Fields(string(out)), " ")+" ", " "+module+"/"+want+" ") {
					t.Errorf("the demo build of %s does not link %s: this test looks for the wrong name", c.cmd, want)
				}
			}
		})
	}
}

// The packaged binary's --help lists no demo, and asking for it is an
// unknown command. This builds the binary as debian/rules does (without
// its hardening flags), so it is skipped in -short runs.
func TestPackagedHelpHasNoDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	tags, goCmd := packagedTags(t), goTool(t)
	bin := filepath.Join(t.TempDir(), "splynx-ippay")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goCmd, "build", "-tags", tags, "-o", bin, "./cmd/splynx-ippay")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	help, err := exec.CommandContext(ctx, bin, "--help").Output()
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(string(help), "\n  doctor ") {
		t.Fatalf("--help lists no commands:\n%s", help)
	}
	if strings.Contains(string(help), "demo") {
		t.Errorf("the packaged --help names the demo:\n%s", help)
	}
	out, err := exec.CommandContext(ctx, bin, "demo", "--once").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown command "demo"`) {
		t.Errorf("the packaged binary ran the demo (%v):\n%s", err, out)
	}
}
