package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// Guards that fail when a mirror record field is added but left out of one
// of the places it must go: the columns written and read (a round trip
// through SQLite), the row fingerprint that decides whether a row changed,
// and the UPDATE or upsert that rewrites a changed row. They fill every
// field by reflection, so a new field is covered without editing them.

// guarded is what the guards need to know of one mirror record type.
type guarded[T any] struct {
	setID func(*T, int64)
	write func(w *MirrorWriter, ctx context.Context, vs []T) error
	read  func(db *DB, ctx context.Context, id int64) (T, error)
	hash  func(*T) int64   // nil: rows are always rewritten
	items func(*T) *[]Item // nil: no lines
}

var (
	guardCustomer = guarded[Customer]{
		setID: func(c *Customer, id int64) { c.ID = id },
		write: (*MirrorWriter).Customers,
		read:  (*DB).GetCustomer,
		hash:  func(c *Customer) int64 { return customerHash(c, attrsText(c.Additional)) },
	}
	guardBilling = guarded[Billing]{
		setID: func(b *Billing, id int64) { b.CustomerID = id },
		write: (*MirrorWriter).Billings,
		read:  (*DB).GetBilling,
	}
	guardInvoice = guarded[Invoice]{
		setID: func(v *Invoice, id int64) { v.ID = id },
		write: (*MirrorWriter).Invoices,
		read:  (*DB).GetInvoice,
		hash:  func(v *Invoice) int64 { return documentHash(v, attrsText(v.Additional), true) },
		items: func(v *Invoice) *[]Item { return &v.Items },
	}
	guardProforma = guarded[Proforma]{
		setID: func(p *Proforma, id int64) { p.ID = id },
		write: (*MirrorWriter).Proformas,
		read:  (*DB).GetProforma,
		hash:  func(p *Proforma) int64 { v := p.asInvoice(); return documentHash(&v, "", false) },
		items: func(p *Proforma) *[]Item { return &p.Items },
	}
	guardPaymentMethod = guarded[PaymentMethod]{
		setID: func(m *PaymentMethod, id int64) { m.ID = id },
		write: (*MirrorWriter).PaymentMethods,
		read: func(db *DB, ctx context.Context, id int64) (PaymentMethod, error) {
			ms, err := db.ListPaymentMethods(ctx)
			for _, m := range ms {
				if m.ID == id {
					return m, err
				}
			}
			return PaymentMethod{}, fmt.Errorf("payment method %d not listed (%v)", id, err)
		},
	}
)

func attrsText(m map[string]string) string {
	a, err := encodeAttrs(m)
	if err != nil {
		panic(err)
	}
	return a
}

// guards holds, per record, its round-trip and change checks.
var guards = map[string][2]func(*testing.T){
	"Customer":      guardChecks(guardCustomer),
	"Billing":       guardChecks(guardBilling),
	"Invoice":       guardChecks(guardInvoice),
	"Proforma":      guardChecks(guardProforma),
	"PaymentMethod": guardChecks(guardPaymentMethod),
}

func guardChecks[T any](g guarded[T]) [2]func(*testing.T) {
	return [2]func(*testing.T){
		func(t *testing.T) { checkRoundTrip(t, g) },
		func(t *testing.T) { checkChanges(t, g) },
	}
}

// Every field written comes back the same.
func TestMirrorRecordsSurviveTheDatabase(t *testing.T) {
	for name, g := range guards {
		t.Run(name, g[0])
	}
}

// A change to any one field, items' fields included, changes the row's
// fingerprint and reaches the mirror when the record is written again.
func TestMirrorNoticesAChangeToEveryField(t *testing.T) {
	for name, g := range guards {
		t.Run(name, g[1])
	}
}

func checkRoundTrip[T any](t *testing.T, g guarded[T]) {
	ctx := context.Background()
	db := openTest(t)
	var v T
	n := 0
	fillSample(t, reflect.ValueOf(&v).Elem(), &n)
	g.setID(&v, 7)
	writeGen(t, db, 1, g, []T{v})
	got, err := g.read(db, ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	compareFields(t, "written and read back", v, got)
}

func checkChanges[T any](t *testing.T, g guarded[T]) {
	ctx := context.Background()
	db := openTest(t)
	var base T
	n := 0
	fillSample(t, reflect.ValueOf(&base).Elem(), &n)
	g.setID(&base, 1)
	idField := idFieldOf(t, g, base)

	type change struct {
		what string
		v    T
	}
	var changes []change
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == idField || f.Name == "SyncedAt" {
			continue
		}
		if f.Type == reflect.TypeFor[[]Item]() {
			for j := range reflect.TypeFor[Item]().NumField() {
				v := clone(base)
				its := g.items(&v) // clone copied the slice
				mutate(t, typ.Name()+".Items."+reflect.TypeFor[Item]().Field(j).Name,
					reflect.ValueOf(&(*its)[0]).Elem().Field(j))
				changes = append(changes, change{typ.Name() + ".Items[0]." + reflect.TypeFor[Item]().Field(j).Name, v})
			}
			continue
		}
		v := clone(base)
		mutate(t, typ.Name()+"."+f.Name, reflect.ValueOf(&v).Elem().Field(i))
		changes = append(changes, change{typ.Name() + "." + f.Name, v})
	}

	olds := make([]T, len(changes))
	for i := range changes {
		olds[i] = clone(base)
		g.setID(&olds[i], int64(i+1))
		g.setID(&changes[i].v, int64(i+1))
		if g.hash != nil {
			old, changed := olds[i], changes[i].v
			if g.items != nil && g.hash(&old) == g.hash(&changed) &&
				itemsHashOf(*g.items(&old)) == itemsHashOf(*g.items(&changed)) {
				t.Errorf("%s: changing it changes neither the row nor the items fingerprint (mirror_hash.go)", changes[i].what)
			} else if g.items == nil && g.hash(&old) == g.hash(&changed) {
				t.Errorf("%s: changing it does not change the row fingerprint (mirror_hash.go)", changes[i].what)
			}
		}
	}
	writeGen(t, db, 1, g, olds)
	news := make([]T, len(changes))
	for i := range changes {
		news[i] = changes[i].v
	}
	writeGen(t, db, 2, g, news)
	for i, c := range changes {
		got, err := g.read(db, ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		compareFields(t, "after a pass that changed "+c.what, c.v, got)
	}
}

// idFieldOf finds the field setID writes.
func idFieldOf[T any](t *testing.T, g guarded[T], v T) string {
	g.setID(&v, 987654321)
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Int64 && f.Int() == 987654321 {
			return rv.Type().Field(i).Name
		}
	}
	t.Fatalf("%T: setID sets no int64 field", v)
	return ""
}

func writeGen[T any](t *testing.T, db *DB, gen int64, g guarded[T], vs []T) {
	t.Helper()
	writeMirror(t, db, gen, func(ctx context.Context, w *MirrorWriter) error { return g.write(w, ctx, vs) })
}

// writeMirror runs fn with a MirrorWriter of generation gen in one write
// transaction.
func writeMirror(t *testing.T, db *DB, gen int64, fn func(context.Context, *MirrorWriter) error) {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *sql.Tx) error {
		w, err := NewMirrorWriter(ctx, tx, gen, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		defer w.Close()
		return fn(ctx, w)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// compareFields reports each field of want that got does not hold; the
// writer's SyncedAt stamp is not compared.
func compareFields[T any](t *testing.T, when string, want, got T) {
	t.Helper()
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range wv.NumField() {
		name := wv.Type().Field(i).Name
		if name == "SyncedAt" {
			continue
		}
		if !reflect.DeepEqual(wv.Field(i).Interface(), gv.Field(i).Interface()) {
			t.Errorf("%s.%s %s: wrote %v, read %v", wv.Type().Name(), name, when, wv.Field(i), gv.Field(i))
		}
	}
}

// fillSample sets every field of v to a value of its own (n counts them);
// SyncedAt, which the writer stamps, stays zero. Times are whole dates, which
// both date and datetime columns hold exactly.
func fillSample(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		if v.Type().Field(i).Name == "SyncedAt" {
			continue
		}
		where := v.Type().Name() + "." + v.Type().Field(i).Name
		if f.Type() == reflect.TypeFor[[]Item]() {
			its := make([]Item, 2)
			for j := range its {
				fillSample(t, reflect.ValueOf(&its[j]).Elem(), n)
			}
			f.Set(reflect.ValueOf(its))
			continue
		}
		if f.Kind() == reflect.Array {
			for j := range f.Len() {
				setSample(t, where, f.Index(j), n)
			}
			continue
		}
		setSample(t, where, f, n)
	}
}

func setSample(t *testing.T, where string, f reflect.Value, n *int) {
	t.Helper()
	*n++
	k := *n
	switch {
	case f.Type() == reflect.TypeFor[time.Time]():
		f.Set(reflect.ValueOf(time.Date(2026, time.Month(1+k%12), 1+k%28, 0, 0, 0, 0, time.UTC)))
	case f.Type() == reflect.TypeFor[map[string]string]():
		f.Set(reflect.ValueOf(map[string]string{fmt.Sprint("key", k): fmt.Sprint("value ", k)}))
	case f.Kind() == reflect.String:
		f.SetString(fmt.Sprint("text ", k))
	case f.Kind() == reflect.Int64:
		f.SetInt(int64(100 + k))
	case f.Kind() == reflect.Bool:
		f.SetBool(true)
	default:
		t.Fatalf("%s: the guard has no sample for type %s; teach setSample", where, f.Type())
	}
}

// mutate changes f to another value of its type.
func mutate(t *testing.T, where string, f reflect.Value) {
	t.Helper()
	switch {
	case f.Type() == reflect.TypeFor[time.Time]():
		f.Set(reflect.ValueOf(f.Interface().(time.Time).AddDate(0, 0, 1)))
	case f.Type() == reflect.TypeFor[map[string]string]():
		m := map[string]string{"added": "yes"}
		for k, v := range f.Interface().(map[string]string) {
			m[k] = v
		}
		f.Set(reflect.ValueOf(m))
	case f.Kind() == reflect.String:
		f.SetString(f.String() + " changed")
	case f.Kind() == reflect.Int64:
		f.SetInt(f.Int() + 1)
	case f.Kind() == reflect.Bool:
		f.SetBool(!f.Bool())
	case f.Kind() == reflect.Array:
		mutate(t, where+"[0]", f.Index(0))
	default:
		t.Fatalf("%s: the guard cannot change a %s; teach mutate", where, f.Type())
	}
}

// clone copies v deeply enough for mutate: maps and slices are copied.
func clone[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Map:
			if !f.IsNil() {
				m := reflect.MakeMap(f.Type())
				for _, k := range f.MapKeys() {
					m.SetMapIndex(k, f.MapIndex(k))
				}
				f.Set(m)
			}
		case reflect.Slice:
			if !f.IsNil() {
				s := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				reflect.Copy(s, f)
				f.Set(s)
			}
		}
	}
	return v
}
