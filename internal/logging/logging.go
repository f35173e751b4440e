// Package logging builds the daemon's zap logger: JSON lines, and a core
// that redacts secrets and masks card and bank numbers before anything is
// encoded, whichever component wrote the field.
package logging

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/splynx-pay/splynx-pay/internal/redact"
)

// Redacted replaces the value of a field whose key names a secret.
const Redacted = "<redacted>"

// New returns a JSON logger writing to w (nil → stderr) at level
// ("debug", "info", "warn", "error"; "" = info), with redaction.
func New(level string, w io.Writer) (*zap.Logger, error) {
	lvl := zapcore.InfoLevel
	if level != "" {
		var err error
		if lvl, err = zapcore.ParseLevel(level); err != nil {
			return nil, fmt.Errorf("logging: level %q: want debug, info, warn or error", level)
		}
	}
	if w == nil {
		w = os.Stderr
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "ts"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeDuration = zapcore.StringDurationEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(Redact(core), zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(os.Stderr)))), nil
}

// Redact wraps a core so every field and message passes through the
// redaction rules before reaching it.
func Redact(c zapcore.Core) zapcore.Core { return &redactCore{Core: c} }

type redactCore struct{ zapcore.Core }

func (r *redactCore) With(fields []zapcore.Field) zapcore.Core {
	return &redactCore{Core: r.Core.With(redactFields(fields))}
}

func (r *redactCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if r.Enabled(e.Level) {
		return ce.AddCore(e, r)
	}
	return ce
}

func (r *redactCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	e.Message = Scrub(e.Message)
	return r.Core.Write(e, redactFields(fields))
}

// secretWords are key parts that mark a field as secret wherever they
// appear ("integrapay_password", "X-Api-Key", "cardNumber").
var secretWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "secret": true, "token": true,
	"authorization": true, "auth_header": true, "cookie": true,
	"card": true, "cvv": true, "cvc": true, "pan": true, "bsb": true, "aba": true, "routing": true,
}

// secretPhrases are joined words that only mean a secret together.
var secretPhrases = []string{"api_key", "apikey", "account_number", "accountnumber", "acct_num", "card_number", "cardnumber"}

var camel = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// SecretKey reports whether a field key names a secret or a card or bank
// number. Keys naming a mask ("card_mask") are what we keep instead, so
// they pass.
func SecretKey(key string) bool {
	k := strings.ToLower(camel.ReplaceAllString(key, "${1}_${2}"))
	k = strings.NewReplacer("-", "_", ".", "_", " ", "_").Replace(k)
	if strings.Contains(k, "mask") {
		return false
	}
	for _, p := range secretPhrases {
		if strings.Contains(k, p) {
			return true
		}
	}
	for _, w := range strings.Split(k, "_") {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// IDKey reports whether a field key names an identifier (transaction_id,
// gatewayId, scheduled_payment_id, reference, receipt): not a secret, and
// not to be masked like an account number.
func IDKey(key string) bool {
	k := strings.ToLower(camel.ReplaceAllString(key, "${1}_${2}"))
	k = strings.NewReplacer("-", "_", ".", "_", " ", "_").Replace(k)
	if SecretKey(key) {
		return false
	}
	return k == "id" || strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "_ids") ||
		k == "reference" || strings.HasSuffix(k, "_reference") || k == "receipt"
}

// cardRun is a run of 12-19 digits, optionally spaced or dashed.
var cardRun = regexp.MustCompile(`\d(?:[ -]?\d){11,18}`)

// scrubCards masks only Luhn-valid card numbers in s.
func scrubCards(s string) string {
	return cardRun.ReplaceAllStringFunc(s, func(m string) string {
		d := strings.NewReplacer(" ", "", "-", "").Replace(m)
		if redact.Luhn(d) {
			return redact.MaskPAN(d)
		}
		return m
	})
}

// isoDate matches the leading date of a timestamp so dates in messages
// ("2026-11-02") survive the digit scrubber.
var isoDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}){1,2})?`)

// Scrub masks anything in s that could be a card, account or routing
// number (redact.ScrubDigits), leaving ISO dates and times readable.
func Scrub(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	dates := isoDate.FindAllStringIndex(s, -1)
	if len(dates) == 0 {
		return redact.ScrubDigits(s)
	}
	var b strings.Builder
	last := 0
	for _, d := range dates {
		b.WriteString(redact.ScrubDigits(s[last:d[0]]))
		b.WriteString(s[d[0]:d[1]])
		last = d[1]
	}
	b.WriteString(redact.ScrubDigits(s[last:]))
	return b.String()
}

func redactFields(fields []zapcore.Field) []zapcore.Field {
	var out []zapcore.Field
	for i, f := range fields {
		nf, changed := redactField(f)
		if changed && out == nil {
			out = make([]zapcore.Field, len(fields))
			copy(out, fields[:i])
		}
		if out != nil {
			out[i] = nf
		}
	}
	if out == nil {
		return fields
	}
	return out
}

func redactField(f zapcore.Field) (zapcore.Field, bool) {
	if f.Type == zapcore.SkipType {
		return f, false
	}
	if SecretKey(f.Key) {
		return zap.String(f.Key, Redacted), true
	}
	switch f.Type {
	case zapcore.StringType:
		if IDKey(f.Key) {
			// Gateway transaction ids, scheduled payment ids and our
			// references are how an operator follows a payment: only a
			// run that is a real card number is masked in them.
			if s := scrubCards(f.String); s != f.String {
				return zap.String(f.Key, s), true
			}
			return f, false
		}
		if s := Scrub(f.String); s != f.String {
			return zap.String(f.Key, s), true
		}
		return f, false
	case zapcore.ByteStringType:
		return zap.String(f.Key, Scrub(string(f.Interface.([]byte)))), true
	case zapcore.ErrorType:
		err, _ := f.Interface.(error)
		if err == nil {
			return f, false
		}
		return zap.String(f.Key, Scrub(err.Error())), true
	case zapcore.StringerType:
		st, _ := f.Interface.(fmt.Stringer)
		if st == nil {
			return f, false
		}
		return zap.String(f.Key, Scrub(safeString(st))), true
	case zapcore.ReflectType, zapcore.ObjectMarshalerType, zapcore.ArrayMarshalerType,
		zapcore.InlineMarshalerType:
		return zap.Any(f.Key, redactValue(structure(f))), true
	case zapcore.DurationType, zapcore.TimeType, zapcore.TimeFullType, zapcore.BoolType,
		zapcore.Float64Type, zapcore.Float32Type, zapcore.Int64Type, zapcore.Int32Type,
		zapcore.Int16Type, zapcore.Int8Type, zapcore.Uint64Type, zapcore.Uint32Type,
		zapcore.Uint16Type, zapcore.Uint8Type, zapcore.UintptrType, zapcore.NamespaceType:
		// Numbers are ids and counts; a card number never travels as one.
		return f, false
	}
	return f, false
}

func safeString(s fmt.Stringer) (out string) {
	defer func() {
		if recover() != nil {
			out = "<panic in String>"
		}
	}()
	return s.String()
}

// structure turns an object-like field into plain maps, slices and scalars
// so nested keys can be checked too.
func structure(f zapcore.Field) any {
	switch f.Type {
	case zapcore.ObjectMarshalerType, zapcore.InlineMarshalerType:
		enc := zapcore.NewMapObjectEncoder()
		if m, ok := f.Interface.(zapcore.ObjectMarshaler); ok {
			if err := m.MarshalLogObject(enc); err != nil {
				return "<unloggable: " + err.Error() + ">"
			}
		}
		return enc.Fields
	case zapcore.ArrayMarshalerType:
		enc := zapcore.NewMapObjectEncoder()
		if m, ok := f.Interface.(zapcore.ArrayMarshaler); ok {
			if err := enc.AddArray("a", m); err != nil {
				return "<unloggable: " + err.Error() + ">"
			}
		}
		return enc.Fields["a"]
	}
	b, err := json.Marshal(f.Interface)
	if err != nil {
		return Scrub(fmt.Sprint(f.Interface))
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return Scrub(string(b))
	}
	return v
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if SecretKey(k) {
				out[k] = Redacted
				continue
			}
			out[k] = redactValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	case string:
		return Scrub(x)
	case []byte:
		return Scrub(string(x))
	case error:
		return Scrub(x.Error())
	case fmt.Stringer:
		return Scrub(safeString(x))
	case time.Time, time.Duration:
		return x
	}
	return v
}

// Component returns a named child logger; a nil parent gives a no-op
// logger so components never need a nil check.
func Component(parent *zap.Logger, name string) *zap.Logger {
	if parent == nil {
		return zap.NewNop()
	}
	return parent.Named(name)
}
