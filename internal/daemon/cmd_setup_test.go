package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packaged man page documents every command the binary has, and the
// ones PK registers are there.
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
	for name := range commands {
		if !strings.Contains(page, "\n.TP\n.B "+name+"\n") {
			t.Errorf("debian/splynx-pay.8.in does not document the %q command", name)
		}
	}
}
