package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// AdminTokenMin is the shortest admin token accepted: the package makes 40 or so
// characters; a short one is a mistake, refused rather than trusted.
const AdminTokenMin = 16

// ReadAdminToken reads the admin token from path, refusing a file that is
// missing, not a regular file, readable or writable by others than its
// owner and group, or holds fewer than 16 characters. doctor uses it too.
func ReadAdminToken(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("no admin token file configured (SPLYNXPAY_ADMIN_TOKEN_FILE)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("admin token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("admin token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("admin token file %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return nil, fmt.Errorf("admin token file %s is open to other users (mode %04o); want 0640 root:<service user>", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("admin token file: %w", err)
	}
	tok := bytes.TrimSpace(b)
	if len(tok) < AdminTokenMin {
		return nil, fmt.Errorf("admin token file %s holds %d characters; want at least %d", path, len(tok), AdminTokenMin)
	}
	return tok, nil
}
