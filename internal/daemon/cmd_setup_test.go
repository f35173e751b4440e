package daemon

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packaged man page documents every command the binary has, and the
// ones PK registers are there. The demo is not in the packaged binary
// (-tags nodemo), so the man page does not name it.
func TestManPageListsEveryCommand(t *testing.T) {
	for _, name := range []string{"doctor", "install-addon"} {
		if _, ok := commands[name]; !ok {
			t.Errorf("command %q is not registered", name)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "debian", "splynx-pay.8.in"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	packaged := maps.Clone(commands)
	for _, c := range demoCommands {
		delete(packaged, c.Name)
	}
	for name := range packaged {
		if !strings.Contains(page, "\n.TP\n.B "+name+"\n") {
			t.Errorf("debian/splynx-pay.8.in does not document the %q command", name)
		}
	}
	for _, c := range demoCommands {
		if strings.Contains(page, "\n.TP\n.B "+c.Name+"\n") {
			t.Errorf("debian/splynx-pay.8.in documents %q, which the packaged binary has not", c.Name)
		}
	}
}
