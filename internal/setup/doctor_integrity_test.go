package setup

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/store"
)

// The doctor's integrity line: OK on a sound file, FAIL with the restore
// fix on a damaged one (damage that only the full check's index pass may
// see is covered by quick_check's structure pass too here).
func TestDoctorIntegrityCheck(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pay.db")
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		if err := db.Audit(ctx, nil, "test.fill", map[string]any{"pad": fmt.Sprintf("%0300d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	d := DoctorDeps{Addon: Addon{Name: "splynx-integrapay"}}
	d.Boot.DBPath = path

	var buf bytes.Buffer
	r := &report{w: &buf}
	checkIntegrity(ctx, r, d)
	if r.failed || !strings.HasPrefix(buf.String(), "OK   database integrity: integrity_check passed") {
		t.Fatalf("sound file: %s", buf.String())
	}

	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	junk := bytes.Repeat([]byte{0x5a, 0xa5, 0x13}, 4096)
	if _, err := f.WriteAt(junk, fi.Size()/2-4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	buf.Reset()
	r = &report{w: &buf}
	checkIntegrity(ctx, r, d)
	out := buf.String()
	if !r.failed || !strings.HasPrefix(out, "FAIL database integrity: "+path+" is damaged") ||
		!strings.Contains(out, "splynx-integrapay restore") || strings.Count(out, "\n") != 1 {
		t.Fatalf("damaged file: %s", out)
	}
}
