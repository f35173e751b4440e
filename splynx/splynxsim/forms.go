package splynxsim

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// maxFormMemory bounds what one multipart body may hold in memory.
const maxFormMemory = 4 << 20

// formBody turns a form-encoded request body into the query-string form
// parsePHPQuery reads. ok is false when the body is not a form at all
// (JSON). Both encodings a browser or a PHP/Node client sends are taken:
// application/x-www-form-urlencoded as is, and multipart/form-data field by
// field, in order; file parts are skipped (Yii2 puts them in $_FILES, not
// in the body parameters).
func formBody(contentType string, body []byte) (form string, ok bool, err error) {
	mt, params, perr := mime.ParseMediaType(contentType)
	if perr != nil {
		return "", false, nil
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return string(body), true, nil
	case "multipart/form-data":
	default:
		return "", false, nil
	}
	if params["boundary"] == "" {
		return "", true, errors.New("multipart body without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var b strings.Builder
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return b.String(), true, nil
		}
		if err != nil {
			return "", true, err
		}
		name := p.FormName()
		if name == "" || p.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, maxFormMemory))
		if err != nil {
			return "", true, err
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(name) + "=" + url.QueryEscape(string(v)))
	}
}
