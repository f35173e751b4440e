package charge_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// The batched re-read of a run's documents (reread.go), over real HTTP
// against the simulators.

// docs adds n customers with a saved card and one unpaid invoice each
// (customer i owes 10+i dollars), mirrors them and empties the Splynx
// request log.
func (e *env) docs(n int) []int64 {
	e.t.Helper()
	var ids []int64
	for i := range n {
		c := e.customer(fmt.Sprintf("Batch Payer %d", i), "card")
		ids = append(ids, e.invoice(c, fmt.Sprintf("%d.00", 10+i), ""))
	}
	e.sync()
	e.sp.ResetRequests()
	return ids
}

// rereads counts the Splynx reads of one kind of document since the log
// was emptied: IN searches and single GETs.
func (e *env) rereads(path string) (lists, gets int) {
	for _, r := range e.sp.Requests() {
		switch {
		case r.Method != "GET":
		case r.Path == path && strings.Contains(r.Query, "%5Bid%5D%5B0%5D=IN"):
			lists++
		case strings.HasPrefix(r.Path, path+"/"):
			gets++
		}
	}
	return lists, gets
}

// charged returns what the gateway was asked to charge per document: an
// invoice by its id, a proforma by its id negated. A document charged twice
// fails the test.
func (e *env) charged() map[int64]int64 {
	e.t.Helper()
	doc := map[string]int64{}
	for _, a := range e.attempts() {
		doc[a.Reference] = a.InvoiceID - a.ProformaID
	}
	out := map[int64]int64{}
	for _, en := range e.ip.Ledger() {
		if en.Kind == "refund" {
			continue
		}
		id, ok := doc[en.Reference]
		if !ok {
			e.t.Errorf("gateway charge %s is no attempt's", en.Reference)
		}
		if _, twice := out[id]; twice {
			e.t.Errorf("document %d charged twice", id)
		}
		out[id] = en.Amount
	}
	return out
}

// wantCharged compares charged() with want (document id → cents).
func (e *env) wantCharged(want map[int64]int64) {
	e.t.Helper()
	if got := e.charged(); !maps(got, want) {
		e.t.Fatalf("gateway charged %v, want %v", got, want)
	}
}

func maps(a, b map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (e *env) runWith(en *charge.Engine, f charge.Filters, conc int) *charge.RunResult {
	e.t.Helper()
	res, err := en.Run(e.ctx, f, charge.RunOptions{Concurrency: conc})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) runLines(res *charge.RunResult, section string) string {
	e.t.Helper()
	lines, err := e.db.RunLog(e.ctx, res.RunID, section)
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// A run over N invoices reads them with one IN search per batch (the run's
// concurrency) and no single GET, and charges each its due. Proformas the
// same, on their own path.
func TestRunRereadsInBatches(t *testing.T) {
	e := newEnv(t, gwIntegra)
	ids := e.docs(24)
	e.sp.UpdateInvoice(ids[5], func(inv *splynxsim.Invoice) { inv.Due = money.MustParse("3.50") })
	en := e.engine()
	res := e.runWith(en, charge.Filters{}, 8)
	if res.Progress.Approved != 24 {
		t.Fatalf("progress %+v", res.Progress)
	}
	if lists, gets := e.rereads("admin/finance/invoices"); lists != 3 || gets != 0 {
		t.Fatalf("%d IN searches and %d single GETs of invoices for 24 invoices at concurrency 8, want 3 and 0", lists, gets)
	}
	want := map[int64]int64{}
	for i, id := range ids {
		want[id] = int64(1000 + 100*i)
	}
	want[ids[5]] = 350
	e.wantCharged(want)
	e.settleAll(en)
	e.checkLedgers()

	var pfs []int64
	for i := range 3 {
		c := e.customer(fmt.Sprintf("Proforma Payer %d", i), "card")
		pfs = append(pfs, e.sp.AddProforma(splynxsim.Proforma{CustomerID: c, Total: money.MustParse("25.00"), Status: "not_paid",
			Items: []splynxsim.InvoiceItem{{Description: "Install", Quantity: 1, Price: money.MustParse("25.00")}}}))
	}
	e.sync()
	e.sp.ResetRequests()
	e.sp.UpdateProforma(pfs[1], func(p *splynxsim.Proforma) { p.Status = "paid" })
	res = e.runWith(en, charge.Filters{Mode: charge.ModeProformas}, 8)
	if lists, gets := e.rereads("admin/finance/proforma-invoices"); lists != 1 || gets != 0 {
		t.Fatalf("%d IN searches and %d single GETs of proformas, want 1 and 0", lists, gets)
	}
	if res.Progress.Approved != 2 || !strings.Contains(e.runLines(res, store.LogError), "skipped: proforma is paid in Splynx") {
		t.Fatalf("proforma run %+v, errors %q", res.Progress, e.runLines(res, store.LogError))
	}
	want[-pfs[0]], want[-pfs[2]] = 2500, 2500
	e.wantCharged(want)
	e.settleAll(en)
	e.checkLedgers()
}

// A batch is read when dispatch reaches it, not with the plan: what
// changes in Splynx after planning, up to its batch's read, decides. Here
// invoices change before the run and, while the first one is charged, next
// in line and further down the plan. At concurrency 1 a batch is one
// invoice, read once the charge before it ended, as the single GET was.
func TestRunRereadSeesChangesUpToItsBatch(t *testing.T) {
	e := newEnv(t, gwIntegra)
	ids := e.docs(6)
	inv0, _ := e.sp.Invoice(ids[0])
	if _, err := e.sp.AddPayment(splynxsim.Payment{CustomerID: inv0.CustomerID, InvoiceID: ids[0], PaymentType: 1,
		Amount: inv0.Total, ReceiptNumber: "COUNTER-1"}); err != nil {
		t.Fatal(err)
	}
	e.sp.UpdateInvoice(ids[1], func(inv *splynxsim.Invoice) { inv.Due = money.MustParse("4.00") })
	var mu sync.Mutex // the hook runs on the reading goroutine
	var reads [][]int64
	e.hooks.AfterReread = func(kind string, batch []int64) {
		mu.Lock()
		defer mu.Unlock()
		reads = append(reads, batch)
	}
	e.hooks.BeforeSend = func(a store.ChargeAttempt) error {
		if a.InvoiceID == ids[1] {
			// A read of the next invoice started too early lands meanwhile.
			time.Sleep(300 * time.Millisecond)
			e.sp.UpdateInvoice(ids[2], func(inv *splynxsim.Invoice) { inv.Due = money.MustParse("2.20") })
			if err := e.sp.DeleteInvoice(ids[4]); err != nil {
				t.Error(err)
			}
			e.sp.UpdateInvoice(ids[5], func(inv *splynxsim.Invoice) { inv.Due = money.MustParse("1.10") })
		}
		return nil
	}
	res := e.runWith(e.engine(), charge.Filters{}, 1)
	e.wantCharged(map[int64]int64{ids[1]: 400, ids[2]: 220, ids[3]: 1300, ids[5]: 110})
	if len(reads) != 6 || !slices.Equal(reads[4], ids[4:5]) {
		t.Fatalf("batches read %v, want 6 of 1 in plan order", reads)
	}
	errs := e.runLines(res, store.LogError)
	for _, want := range []string{fmt.Sprintf("(id %d) - Customer id : %d - skipped: invoice is paid in Splynx", ids[0], inv0.CustomerID),
		fmt.Sprintf("(id %d) - Customer id : %d - skipped: invoice is deleted in Splynx", ids[4], inv0.CustomerID+4)} {
		if !strings.Contains(errs, want) {
			t.Errorf("run errors %q lack %q", errs, want)
		}
	}
	if _, gets := e.rereads("admin/finance/invoices"); gets != 0 {
		t.Errorf("%d single GETs, want none", gets)
	}
}

// An id missing from the batch answer is not taken as deleted: a GET asks,
// and only its 404 skips the invoice.
func TestRunRereadMissingIDAsksByGET(t *testing.T) {
	e := newEnv(t, gwIntegra)
	ids := e.docs(4)
	e.sp.HideFromLists(true, ids[1]) // still there by GET
	gone, _ := e.sp.Invoice(ids[2])
	e.sp.PurgeInvoice(ids[2])
	res := e.runWith(e.engine(), charge.Filters{}, 4)
	e.wantCharged(map[int64]int64{ids[0]: 1000, ids[1]: 1100, ids[3]: 1300})
	if lists, gets := e.rereads("admin/finance/invoices"); lists != 1 || gets != 2 {
		t.Fatalf("%d IN searches and %d single GETs, want 1 and 2 (the ids missing from the answer)", lists, gets)
	}
	want := fmt.Sprintf("(id %d) - Customer id : %d - skipped: invoice no longer exists in Splynx", ids[2], gone.CustomerID)
	if errs := e.runLines(res, store.LogError); !strings.Contains(errs, want) {
		t.Fatalf("run errors %q lack %q", errs, want)
	}
}

// A Splynx that refuses the IN search: the run charges everything right
// with one GET per invoice, tries no further batch, and says so once.
func TestRunRereadRefusedFallsBackToGETs(t *testing.T) {
	e := newEnvSim(t, gwIntegra, splynxsim.Options{NoInSearch: true})
	ids := e.docs(10) // concurrency 2: 5 batches
	e.sp.UpdateInvoice(ids[3], func(inv *splynxsim.Invoice) { inv.Status = "paid"; inv.Due = 0 })
	core, logs := observer.New(zapcore.InfoLevel)
	en := charge.New(e.db, e.spc, e.gw, charge.Options{Policy: e.set, Clock: e.clk, Logger: zap.New(core),
		ProgressEvery: 20 * time.Millisecond})
	res := e.runWith(en, charge.Filters{}, 2)
	want := map[int64]int64{}
	for i, id := range ids {
		want[id] = int64(1000 + 100*i)
	}
	delete(want, ids[3])
	e.wantCharged(want)
	// The first batch and at most the one read ahead with it were tried.
	if lists, gets := e.rereads("admin/finance/invoices"); lists < 1 || lists > 2 || gets != 10 {
		t.Fatalf("%d IN searches and %d single GETs, want 1 or 2 (refused) and 10", lists, gets)
	}
	if res.Progress.Approved != 9 || !strings.Contains(e.runLines(res, store.LogError), "skipped: invoice is paid in Splynx") {
		t.Fatalf("progress %+v, errors %q", res.Progress, e.runLines(res, store.LogError))
	}
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 || !strings.Contains(warns[0].Message, "batched re-read") || warns[0].ContextMap()["run_id"] != res.RunID {
		t.Fatalf("warnings %+v, want one about the batched re-read with the run id %d", warns, res.RunID)
	}
}

// A batch answer older than rereadMaxAge (60 s) when the charge is decided
// is not used: each invoice is read again by GET, and one paid meanwhile is
// skipped.
func TestRunRereadStaleBatchAsksByGET(t *testing.T) {
	e := newEnv(t, gwIntegra)
	ids := e.docs(3)
	inv0, _ := e.sp.Invoice(ids[0])
	e.hooks.AfterReread = func(string, []int64) {
		if _, err := e.sp.AddPayment(splynxsim.Payment{CustomerID: inv0.CustomerID, InvoiceID: ids[0], PaymentType: 1,
			Amount: inv0.Total, ReceiptNumber: "COUNTER-2"}); err != nil {
			t.Error(err)
		}
		e.clk.Advance(61 * time.Second)
	}
	res := e.runWith(e.engine(), charge.Filters{}, 4)
	e.wantCharged(map[int64]int64{ids[1]: 1100, ids[2]: 1200})
	if lists, gets := e.rereads("admin/finance/invoices"); lists != 1 || gets != 3 {
		t.Fatalf("%d IN searches and %d single GETs, want 1 and 3", lists, gets)
	}
	if errs := e.runLines(res, store.LogError); !strings.Contains(errs, "skipped: invoice is paid in Splynx") {
		t.Fatalf("run errors %q", errs)
	}
}
