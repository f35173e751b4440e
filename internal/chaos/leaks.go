package chaos

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Secret is a test card or bank number that must never be stored or
// logged by the daemon: it goes to the gateway and nowhere else.
type Secret struct {
	Name  string
	Value string
}

// The clearly fake card and bank numbers the chaos run saves through the
// gateway simulators (cmd/splynx-chaos), which accept them.
const (
	TestPAN    = "4111111111111111"
	TestBSB    = "062000"
	TestAUAcct = "12345678"
	TestABA    = "111000025"
	TestUSAcct = "000123456789"
)

// Secrets are what the chaos run looks for in the database files, the
// backups and the daemon's log: the card number, the US account number, and
// each account with its BSB or ABA routing number as one string.
func Secrets() []Secret {
	return []Secret{{Name: "test card number", Value: TestPAN}, {Name: "US bank account", Value: TestUSAcct},
		{Name: "ABA+account", Value: TestABA + TestUSAcct}, {Name: "BSB+account", Value: TestBSB + TestAUAcct}}
}

// DatabaseSecrets are looked for in the database files and backups only:
// the 8-digit AU account number could turn up in a log's digits by chance.
func DatabaseSecrets() []Secret {
	return []Secret{{Name: "AU bank account", Value: TestAUAcct}}
}

// ScanFiles looks for each secret in the files (the database, its WAL and
// shared memory, backups, logs) and in every file under the directories
// given, byte for byte, so free pages and WAL frames count too. It returns
// one line per find and how many bytes it read.
func ScanFiles(paths []string, secrets []Secret) (finds []string, scanned int64, err error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, scanned, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return nil, scanned, err
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, scanned, err
		}
		scanned += int64(len(b))
		for _, s := range secrets {
			if n := bytes.Count(b, []byte(s.Value)); n > 0 {
				finds = append(finds, fmt.Sprintf("%s found %d times in %s", s.Name, n, f))
			}
		}
	}
	return finds, scanned, nil
}
