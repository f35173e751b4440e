package splynx

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzLooseValues feeds one JSON value to every loose type Splynx records
// use (ids, whole numbers, flags, money, dates, date-times, text, custom
// attributes): no panic, and whatever decodes survives its own encoding
// unchanged, so a value we write back is the value we read.
// Seeds: testdata/fuzz/FuzzLooseValues.
func FuzzLooseValues(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		// encoding/json and the list scanner hand these methods one whole,
		// valid JSON value; that is their contract.
		if !json.Valid(b) {
			return
		}
		var id ID
		if id.UnmarshalJSON(b) == nil {
			out, _ := id.MarshalJSON()
			var back ID
			if err := back.UnmarshalJSON(out); err != nil || back != id {
				t.Fatalf("id %q → %d → %s → %d (%v)", b, id, out, back, err)
			}
		}
		var m Money
		if m.UnmarshalJSON(b) == nil {
			out, _ := m.MarshalJSON()
			var back Money
			if err := back.UnmarshalJSON(out); err != nil || back != m {
				t.Fatalf("money %q → %d → %s → %d (%v)", b, m, out, back, err)
			}
		}
		var fl Flag
		if fl.UnmarshalJSON(b) == nil {
			out, _ := fl.MarshalJSON()
			var back Flag
			if err := back.UnmarshalJSON(out); err != nil || back != fl {
				t.Fatalf("flag %q → %v → %s → %v (%v)", b, fl, out, back, err)
			}
		}
		var d Date
		if d.UnmarshalJSON(b) == nil {
			out, _ := d.MarshalJSON()
			var back Date
			if err := back.UnmarshalJSON(out); err != nil || !back.Time().Equal(d.Time()) {
				t.Fatalf("date %q → %v → %s → %v (%v)", b, d, out, back, err)
			}
		}
		var dt DateTime
		if dt.UnmarshalJSON(b) == nil {
			out, _ := dt.MarshalJSON()
			var back DateTime
			if err := back.UnmarshalJSON(out); err != nil || !back.Time().Equal(dt.Time()) {
				t.Fatalf("datetime %q → %v → %s → %v (%v)", b, dt, out, back, err)
			}
		}
		var n Int
		_ = n.UnmarshalJSON(b)
		var tx text
		_ = tx.UnmarshalJSON(b)
		var a attrs
		_ = a.UnmarshalJSON(b)
	})
}

// FuzzDecodeRecords compares the list path's fast scanner with
// encoding/json on whole records (invoice, customer, payment): when both
// read a record they must read the same thing, or a listing and a single
// read of one invoice would disagree about money or ids.
// Seeds: testdata/fuzz/FuzzDecodeRecords.
func FuzzDecodeRecords(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		differential[Invoice](t, b)
		differential[Customer](t, b)
		differential[Payment](t, b)
		differential[Proforma](t, b)
	})
}

func differential[T any](t *testing.T, b []byte) {
	t.Helper()
	if !exactKeys(b) {
		// encoding/json matches keys case-insensitively, the scanner
		// exactly (Splynx sends lower-case keys): a known difference.
		return
	}
	var fast T
	if err := decodeRecord(b, &fast); err != nil {
		return
	}
	var slow T
	if err := json.Unmarshal(b, &slow); err != nil {
		// decodeRecord fell back or accepted more; only a disagreement on
		// a record both read is a defect.
		return
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%T: fast path %+v, encoding/json %+v, from %q", fast, fast, slow, b)
	}
}

// FuzzSearchEncode: a value from outside (an invoice number, a name a
// person searches for) can never add or change a condition: the encoded
// query splits into exactly the expected parameters, each decoding back to
// the value given.
// Seeds: testdata/fuzz/FuzzSearchEncode.
func FuzzSearchEncode(f *testing.F) {
	f.Fuzz(func(t *testing.T, op, v1, v2 string) {
		s := Search{Main: []Cond{Eq("number", v1), {Field: "status", Op: op, Values: []string{v1, v2}}},
			Additional: []Cond{In("autopay", v2, v1)}}
		q := s.Encode()
		parts := strings.Split(q, "&")
		got := map[string]string{}
		for _, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			if !ok || strings.ContainsAny(k+v, "=&#? ") {
				t.Fatalf("parameter %q of %q is not key=urlencoded", p, q)
			}
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				t.Fatalf("parameter %q does not decode: %v %v", p, err1, err2)
			}
			if _, dup := got[dk]; dup {
				t.Fatalf("key %q twice in %q", dk, q)
			}
			got[dk] = dv
		}
		if got["main_attributes[number]"] != v1 {
			t.Fatalf("number = %q, want %q (query %q)", got["main_attributes[number]"], v1, q)
		}
		if got["additional_attributes[autopay][1][0]"] != v2 || got["additional_attributes[autopay][1][1]"] != v1 {
			t.Fatalf("IN values changed: %q", q)
		}
		want := 1 + 3 + 3 // Eq, op with two values, IN with two values
		up := strings.ToUpper(strings.TrimSpace(op))
		if up == "IN" || up == "NOT IN" {
			want = 1 + 3 + 3
		}
		if len(parts) != want {
			t.Fatalf("%d parameters, want %d: %q", len(parts), want, q)
		}
	})
}

// exactKeys says whether every object key in b is lower case and no key
// repeats in its object (json.Valid documents only).
func exactKeys(b []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	type frame struct {
		obj  bool
		key  bool // next string token is a key
		seen map[string]bool
	}
	var st []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		var top *frame
		if len(st) > 0 {
			top = st[len(st)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil && top.obj {
					top.key = true
				}
				st = append(st, &frame{obj: true, key: true, seen: map[string]bool{}})
				continue
			case '[':
				if top != nil && top.obj {
					top.key = true
				}
				st = append(st, &frame{})
				continue
			default:
				st = st[:len(st)-1]
				continue
			}
		case string:
			if top != nil && top.obj && top.key {
				if v != strings.ToLower(v) || top.seen[v] {
					return false
				}
				top.seen[v] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.obj {
			top.key = true
		}
	}
}
