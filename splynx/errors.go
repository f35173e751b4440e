package splynx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// maxErrorBody caps how much of an error response is read and kept: enough
// for any Splynx error or validation list, not enough to hoard a 500 page.
const maxErrorBody = 4 << 10

// APIError is a non-2xx answer from Splynx.
type APIError struct {
	Method       string
	Path         string // API path without the base URL or query; secrets in it are masked
	Status       int    // HTTP status
	Code         int    // error.code from the body (often equal to Status)
	InternalCode string // error.internal_code, e.g. NOT_FOUND, EXPIRED_ACCESS_TOKEN
	Message      string // error.message
	Fields       []FieldError
	Body         string // the body as received, capped at 4 KiB, secrets masked
}

// FieldError is one validation failure of a 422 answer.
type FieldError struct {
	Field   string
	Message string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.Status)
	if e.InternalCode != "" {
		b.WriteString(" " + e.InternalCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field + ": ")
		}
		b.WriteString(f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	if e.Message == "" && len(e.Fields) == 0 && e.Body != "" {
		body := e.Body
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		b.WriteString(": " + strings.Join(strings.Fields(body), " "))
	}
	return b.String()
}

func statusOf(err error) (int, string) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status, ae.InternalCode
	}
	return 0, ""
}

// IsNotFound reports a 404 (or Splynx's NOT_FOUND).
func IsNotFound(err error) bool {
	s, c := statusOf(err)
	return s == http.StatusNotFound || c == "NOT_FOUND"
}

// IsMethodNotAllowed reports a 405: the endpoint or method is disabled (or,
// in Splynx, the entity belongs to another partner).
func IsMethodNotAllowed(err error) bool {
	s, c := statusOf(err)
	return s == http.StatusMethodNotAllowed || c == "METHOD_NOT_ALLOWED" || c == "METHOD_DISABLED"
}

// IsUnauthorized reports a 401: bad key, secret, nonce or token.
func IsUnauthorized(err error) bool {
	s, _ := statusOf(err)
	return s == http.StatusUnauthorized
}

// IsForbidden reports a 403: the API key lacks a permission.
func IsForbidden(err error) bool {
	s, _ := statusOf(err)
	return s == http.StatusForbidden
}

// IsValidation reports a 422 or an INVALID_INPUT_DATA answer.
func IsValidation(err error) bool {
	s, c := statusOf(err)
	return s == http.StatusUnprocessableEntity || c == "INVALID_INPUT_DATA"
}

// newAPIError builds the error from a capped body. It accepts Splynx's
// {"error":{...}} shape, Yii's [{field,message}] list, {"field":"msg"} or
// {"field":["msg",..]} objects, and anything else as plain text.
func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status, Body: scrubBody(body)}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return e
	}
	switch trimmed[0] {
	case '{':
		var env struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(trimmed, &env) == nil && len(env.Error) > 0 && env.Error[0] == '{' {
			var inner struct {
				Message      text            `json:"message"`
				Code         Int             `json:"code"`
				InternalCode text            `json:"internal_code"`
				Fields       json.RawMessage `json:"fields"`
				Errors       json.RawMessage `json:"errors"`
			}
			if json.Unmarshal(env.Error, &inner) == nil {
				e.Message = scrubText(string(inner.Message))
				e.Code = int(inner.Code)
				e.InternalCode = string(inner.InternalCode)
				e.Fields = fieldErrors(inner.Fields)
				if e.Fields == nil {
					e.Fields = fieldErrors(inner.Errors)
				}
				return e
			}
		}
		if json.Unmarshal(trimmed, &env) == nil && len(env.Error) > 0 && env.Error[0] == '"' {
			var msg string
			_ = json.Unmarshal(env.Error, &msg)
			e.Message = scrubText(msg)
			return e
		}
		var flat struct {
			Message text `json:"message"`
			Name    text `json:"name"`
			Code    Int  `json:"code"`
		}
		if json.Unmarshal(trimmed, &flat) == nil && flat.Message != "" {
			e.Message = scrubText(string(flat.Message))
			e.Code = int(flat.Code)
			return e
		}
		e.Fields = fieldErrors(trimmed)
	case '[':
		e.Fields = fieldErrors(trimmed)
	}
	return e
}

// fieldErrors reads validation failures in the shapes Yii and Splynx use.
func fieldErrors(raw json.RawMessage) []FieldError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var out []FieldError
	switch raw[0] {
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for _, it := range items {
			var fe struct {
				Field     text `json:"field"`
				Attribute text `json:"attribute"`
				Message   text `json:"message"`
			}
			if len(it) > 0 && it[0] == '{' && json.Unmarshal(it, &fe) == nil {
				f := string(fe.Field)
				if f == "" {
					f = string(fe.Attribute)
				}
				out = append(out, FieldError{Field: f, Message: scrubText(string(fe.Message))})
				continue
			}
			var t text
			if t.UnmarshalJSON(it) == nil {
				out = append(out, FieldError{Message: scrubText(string(t))})
			}
		}
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := bytes.TrimSpace(m[k])
			if len(v) > 0 && v[0] == '[' {
				var msgs []text
				if json.Unmarshal(v, &msgs) == nil {
					for _, msg := range msgs {
						out = append(out, FieldError{Field: k, Message: scrubText(string(msg))})
					}
					continue
				}
			}
			var t text
			if t.UnmarshalJSON(v) == nil {
				out = append(out, FieldError{Field: k, Message: scrubText(string(t))})
			}
		}
	}
	return out
}

// Secrets that could appear in an echoed request or a token response.
var (
	secretJSON  = regexp.MustCompile(`(?i)("(?:access_token|refresh_token|password|secret|api_secret|signature|key|session_id|code)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	secretQuery = regexp.MustCompile(`(?i)\b(access_token|refresh_token|password|secret|signature|key|session_id)=([^&\s)"]+)`)
)

func scrubBody(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return scrubText(string(b))
}

func scrubText(s string) string {
	if s == "" {
		return s
	}
	s = secretJSON.ReplaceAllString(s, `$1"***"`)
	return secretQuery.ReplaceAllString(s, `$1=***`)
}
