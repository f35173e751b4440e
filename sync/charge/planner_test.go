package charge_test

import (
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// Splynx's Charge filters select exactly the invoices they name.
func TestPlannerFilters(t *testing.T) {
	e := newEnv(t, gwIntegra)
	day := func(d int) time.Time { return time.Date(2026, 10, d, 12, 0, 0, 0, time.UTC) }
	type inv struct {
		partner, location, ptype int64
		total                    string
		created                  time.Time
	}
	invs := []inv{
		{1, 1, 3, "10.00", day(1)},
		{1, 2, 3, "20.00", day(5)},
		{2, 1, 2, "30.00", day(10)},
		{2, 2, 2, "40.00", day(15)},
		{3, 1, 3, "50.00", day(20)},
	}
	var ids, custs []int64
	for _, v := range invs {
		c := e.sp.AddCustomer(splynxsim.Customer{Name: "Filter Test", PartnerID: v.partner, LocationID: v.location})
		e.sp.SetBilling(c, func(b *splynxsim.Billing) { b.PaymentMethod = v.ptype })
		e.save(c, "card")
		custs = append(custs, c)
		ids = append(ids, e.sp.AddInvoice(splynxsim.Invoice{CustomerID: c, Total: money.MustParse(v.total),
			Status: "not_paid", DateCreated: v.created, Items: []splynxsim.InvoiceItem{{Description: "x", Quantity: 1,
				Price: money.MustParse(v.total)}}}))
	}
	e.sync()
	third, _ := e.sp.Invoice(ids[2])
	cases := []struct {
		name string
		f    charge.Filters
		want []int // indexes into invs
	}{
		{"all", charge.Filters{}, []int{0, 1, 2, 3, 4}},
		{"period", charge.Filters{From: "2026-10-05", To: "2026-10-15"}, []int{1, 2, 3}},
		{"partners", charge.Filters{Partners: []int64{1, 3}}, []int{0, 1, 4}},
		{"location", charge.Filters{Locations: []int64{2}}, []int{1, 3}},
		{"payment type", charge.Filters{PaymentTypes: []int64{2}}, []int{2, 3}},
		{"total >", charge.Filters{TotalOp: ">", Total: 3000}, []int{3, 4}},
		{"total <", charge.Filters{TotalOp: "<", Total: 3000}, []int{0, 1}},
		{"total =", charge.Filters{TotalOp: "=", Total: 3000}, []int{2}},
		{"customer", charge.Filters{CustomerID: custs[4]}, []int{4}},
		{"number", charge.Filters{Number: third.Number}, []int{2}},
		{"selection", charge.Filters{IDs: []int64{ids[0], ids[3]}}, []int{0, 3}},
		{"combined", charge.Filters{Partners: []int64{2}, Locations: []int64{1}, From: "2026-10-01"}, []int{2}},
	}
	en := e.engine()
	for _, c := range cases {
		pv, err := en.Preview(e.ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []int64
		for _, it := range pv.Items {
			got = append(got, it.InvoiceID)
		}
		var want []int64
		var sum int64
		for _, i := range c.want {
			want = append(want, ids[i])
			sum += int64(money.MustParse(invs[i].total))
		}
		if len(got) != len(want) || pv.DueSum != sum {
			t.Errorf("%s: got %v (due %d), want %v (due %d)", c.name, got, pv.DueSum, want, sum)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, want)
				break
			}
		}
	}
	for _, bad := range []charge.Filters{{Mode: "weekly"}, {From: "2026-13-01"}, {TotalOp: "~"}, {Statuses: []string{"open"}}} {
		if _, err := en.Preview(e.ctx, bad); err == nil {
			t.Errorf("bad filters %+v accepted", bad)
		}
	}
}

// The nightly run's period settings: by default every unpaid invoice
// however old (today's behaviour); auto_charge_max_age_days and
// auto_charge_due_reached narrow it like the Charge dialog's period.
func TestNightlyPeriodSettings(t *testing.T) {
	e := newEnv(t, gwIntegra) // the clock is 2026-11-02
	c := e.customer("Period Test", "card")
	add := func(created, till time.Time) int64 {
		return e.sp.AddInvoice(splynxsim.Invoice{CustomerID: c, Total: money.MustParse("10.00"), Status: "not_paid",
			DateCreated: created, DateTill: till, Items: []splynxsim.InvoiceItem{{Description: "x", Quantity: 1,
				Price: money.MustParse("10.00")}}})
	}
	old := add(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 15, 0, 0, 0, 0, time.UTC))
	dueNow := add(time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	notYet := add(time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC))
	e.sync()
	planned := func() []int64 {
		t.Helper()
		en := e.engine()
		pv, err := en.Preview(e.ctx, en.NightlyFilters())
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, it := range pv.Items {
			ids = append(ids, it.InvoiceID)
		}
		return ids
	}
	if got := planned(); len(got) != 3 {
		t.Fatalf("default nightly run plans %v, want all three", got)
	}
	e.set.AutoChargeMaxAgeDays = 30
	if got := planned(); len(got) != 2 || got[0] != dueNow || got[1] != notYet {
		t.Fatalf("within 30 days: %v, want [%d %d] (not %d)", got, dueNow, notYet, old)
	}
	e.set.AutoChargeDueReached = true
	if got := planned(); len(got) != 1 || got[0] != dueNow {
		t.Fatalf("due date reached: %v, want [%d]", got, dueNow)
	}
}
