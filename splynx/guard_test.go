package splynx

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The fast decoder (fastdecode.go) is a hand-written switch per record; a
// field added to a record but not to its switch decodes as zero, silently.
// These guards build, for every record the fast decoder serves, a JSON
// object in which every field has a distinct non-zero value, and require
// the fast decoder to fill every field exactly as encoding/json does.

// fastRecords are the records with a scanFrom method, each checked by
// checkFastCovers; TestFastDecoderGuardCoversEveryRecord keeps the list whole.
var fastRecords = map[string]func(t *testing.T){
	"Invoice":         checkFastCovers[Invoice],
	"InvoiceItem":     checkFastCovers[InvoiceItem],
	"Proforma":        checkFastCovers[Proforma],
	"Customer":        checkFastCovers[Customer],
	"CustomerBilling": checkFastCovers[CustomerBilling],
	"Payment":         checkFastCovers[Payment],
}

func TestFastDecoderCoversEveryField(t *testing.T) {
	for name, check := range fastRecords {
		t.Run(name, check)
	}
}

// A record that gains a scanFrom must be added to fastRecords.
func TestFastDecoderGuardCoversEveryRecord(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var found []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "scanFrom" || fn.Recv == nil {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok {
					found = append(found, id.Name)
				}
			}
		}
	}
	if len(found) == 0 {
		t.Fatal("found no scanFrom methods; has the fast decoder moved?")
	}
	for _, name := range found {
		if fastRecords[name] == nil {
			t.Errorf("%s has a fast decoder but no guard: add it to fastRecords", name)
		}
	}
}

func checkFastCovers[T any](t *testing.T) {
	typ := reflect.TypeFor[T]()
	n := 0
	raw := sampleObject(t, typ, &n)
	want := reference[T](t, raw)
	got := fastOnly[T](t, raw)
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if wv.Field(i).IsZero() {
			t.Fatalf("guard sample leaves %s.%s zero even through encoding/json: %s", typ.Name(), f.Name, raw)
		}
		if gv.Field(i).IsZero() {
			t.Errorf("%s.%s (json %q) is not decoded by the fast decoder: add it to %s.scanFrom in fastdecode.go",
				typ.Name(), f.Name, jsonName(f), typ.Name())
		} else if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("%s.%s: fast decoder %v, encoding/json %v", typ.Name(), f.Name, gv.Field(i), wv.Field(i))
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// sampleObject renders a JSON object of typ with every tagged field set to
// a value of its own, distinct from the others (n counts them).
func sampleObject(t *testing.T, typ reflect.Type, n *int) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteByte('{')
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := jsonName(f)
		if name == "" || name == "-" {
			t.Fatalf("%s.%s has no json name", typ.Name(), f.Name)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", name, sampleValue(t, typ.Name()+"."+f.Name, f.Type, n))
	}
	b.WriteByte('}')
	return []byte(b.String())
}

func sampleValue(t *testing.T, where string, ft reflect.Type, n *int) string {
	t.Helper()
	*n++
	k := *n
	switch ft {
	case reflect.TypeFor[ID](), reflect.TypeFor[Int]():
		return fmt.Sprintf(`"%d"`, 100+k)
	case reflect.TypeFor[Flag]():
		return `"1"`
	case reflect.TypeFor[Money]():
		return fmt.Sprintf(`"%d.2500"`, 100+k)
	case reflect.TypeFor[Date]():
		return fmt.Sprintf(`"2026-%02d-%02d"`, 1+k%12, 1+k%28)
	case reflect.TypeFor[DateTime]():
		return fmt.Sprintf(`"2026-%02d-%02d %02d:%02d:%02d"`, 1+k%12, 1+k%28, k%24, k%60, (k*7)%60)
	case reflect.TypeFor[string]():
		return fmt.Sprintf(`"text %d"`, k)
	case reflect.TypeFor[map[string]string]():
		return fmt.Sprintf(`{"key%d":"value %d"}`, k, k)
	}
	if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
		return "[" + string(sampleObject(t, ft.Elem(), n)) + "," + string(sampleObject(t, ft.Elem(), n)) + "]"
	}
	t.Fatalf("%s: the guard has no sample for type %s; teach sampleValue", where, ft)
	return ""
}
