package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/internal/simstack"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
	"github.com/splynx-pay/splynx-pay/store"
)

// holdTransport lets a test hold the simulated Splynx's answers to GETs of
// documents: while on, such a request is sent and answered (the simulator
// has read its state) but its answer reaches the client only when the test
// lets it go, or the request's context ends. So a test knows which
// requests are in flight and what they saw.
type holdTransport struct {
	base http.RoundTripper
	held chan string   // path?query of each request as it is held
	next chan struct{} // lets one held request go

	mu   sync.Mutex
	on   bool
	free chan struct{} // closed: lets every held request go
}

func (h *holdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/admin/finance/") {
		return resp, err
	}
	h.mu.Lock()
	on, free := h.on, h.free
	h.mu.Unlock()
	if !on {
		return resp, nil
	}
	h.held <- r.URL.Path + "?" + r.URL.RawQuery
	select {
	case <-h.next:
	case <-free:
	case <-r.Context().Done():
		resp.Body.Close()
		return nil, r.Context().Err()
	}
	return resp, nil
}

// hold holds answers from now on.
func (h *holdTransport) hold() {
	h.mu.Lock()
	h.on, h.free = true, make(chan struct{})
	h.mu.Unlock()
}

// release lets every held answer go and holds no more.
func (h *holdTransport) release() {
	h.mu.Lock()
	if h.on {
		h.on = false
		close(h.free)
	}
	h.mu.Unlock()
}

// batchSite is a page set's document cache against the simulated Splynx
// over real HTTP, with the answers holdable.
type batchSite struct {
	t    *testing.T
	sp   *splynxsim.Sim
	h    *holdTransport
	b    *backend
	docs *docCache
	log  *zap.Logger
	logs *observer.ObservedLogs
	cust []int64
}

func newBatchSite(t *testing.T, so splynxsim.Options) *batchSite {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	h := &holdTransport{base: tr, held: make(chan string, 1000), next: make(chan struct{}), free: make(chan struct{})}
	t.Cleanup(h.release)
	st := simstack.Start(t, simstack.Options{SplynxSim: so, SplynxHTTP: &http.Client{Transport: h}})
	core, logs := observer.New(zapcore.WarnLevel)
	s := &batchSite{t: t, sp: st.Splynx, h: h, b: &backend{sp: st.SplynxClient}, docs: &docCache{}, log: zap.New(core), logs: logs}
	for i := range 2 {
		s.cust = append(s.cust, st.Splynx.AddCustomer(splynxsim.Customer{Name: fmt.Sprintf("Batch %d", i), Login: fmt.Sprintf("batch%d", i), Status: "active"}))
	}
	return s
}

// invoice adds invoice i of the site's customers: due (10 + i).00.
func (s *batchSite) invoice(i int) int64 {
	return s.sp.AddInvoice(splynxsim.Invoice{CustomerID: s.cust[i%2], Number: fmt.Sprintf("B-%04d", i), Total: money.Amount(1000 + 100*i)})
}

type readResult struct {
	d     doc
	state string
	err   error
}

// start reads a document as a confirm POST does (fresh) in a goroutine.
func (s *batchSite) start(ctx context.Context, kind string, id int64) chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		d, state, err := s.docs.read(ctx, s.b, s.log, kind, id, true)
		ch <- readResult{d, state, err}
	}()
	return ch
}

func (s *batchSite) result(ch chan readResult) readResult {
	s.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		s.t.Fatal("a read did not return")
		return readResult{}
	}
}

// heldRequest waits for the next request to be held.
func (s *batchSite) heldRequest() string {
	s.t.Helper()
	select {
	case p := <-s.h.held:
		return p
	case <-time.After(10 * time.Second):
		s.t.Fatal("no request reached Splynx")
		return ""
	}
}

// queued is how many reads of kind wait for the next request.
func (s *batchSite) queued(kind string) int {
	bt := &s.docs.batch
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if q := bt.q[docBatchKey{kind, s.b.sp}]; q != nil {
		return len(q.pending)
	}
	return 0
}

func (s *batchSite) waitQueued(kind string, n int) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.queued(kind) != n {
		if time.Now().After(deadline) {
			s.t.Fatalf("%d reads of %s queued, want %d", s.queued(kind), kind, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// requests counts the GETs Splynx received of a document path
// (admin/finance/invoices): id searches of the list, and single reads.
func (s *batchSite) requests(path string) (lists, singles int) {
	for _, r := range s.sp.Requests() {
		switch {
		case r.Method != http.MethodGet:
		case r.Path == path:
			lists++
		case strings.HasPrefix(r.Path, path+"/"):
			singles++
		}
	}
	return lists, singles
}

// searchedIDs are the ids of the id searches Splynx received of path.
func (s *batchSite) searchedIDs(path string) [][]string {
	var out [][]string
	for _, r := range s.sp.Requests() {
		if r.Method != http.MethodGet || r.Path != path {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		var ids []string
		for k, v := range q {
			if strings.HasPrefix(k, "main_attributes[id][1]") {
				ids = append(ids, v...)
			}
		}
		slices.Sort(ids)
		out = append(out, ids)
	}
	return out
}

const invoicesPath, proformasPath = "admin/finance/invoices", "admin/finance/proforma-invoices"

// Forty customers opening forty invoices at once, and ten proformas, cost
// Splynx a handful of requests, and each gets its own document.
func TestDocBatchConcurrentReadsShareSearches(t *testing.T) {
	s := newBatchSite(t, splynxsim.Options{})
	const n, np = 40, 10
	var ids, pids []int64
	for i := range n {
		ids = append(ids, s.invoice(i))
	}
	for i := range np {
		pids = append(pids, s.sp.AddProforma(splynxsim.Proforma{CustomerID: s.cust[i%2], Number: fmt.Sprintf("PF-%d", i),
			Total: money.Amount(500 + 100*i), Status: "not_paid"}))
	}
	s.sp.ResetRequests()
	// Held, so that all fifty are asked while the first requests are out,
	// however slowly the goroutines start.
	s.h.hold()
	var inv, pf []chan readResult
	for _, id := range ids {
		inv = append(inv, s.start(context.Background(), store.KindInvoice, id))
	}
	for _, id := range pids {
		pf = append(pf, s.start(context.Background(), store.KindProforma, id))
	}
	s.waitQueued(store.KindInvoice, n-docBatchInFlight)
	s.waitQueued(store.KindProforma, np-docBatchInFlight)
	s.h.release()
	for i, ch := range inv {
		r := s.result(ch)
		if r.err != nil || r.state != docPayable || r.d.ID != ids[i] || r.d.Number != fmt.Sprintf("B-%04d", i) ||
			r.d.Due != int64(1000+100*i) || r.d.CustomerID != s.cust[i%2] || r.d.Kind != store.KindInvoice {
			t.Errorf("invoice %d: %+v %q %v", ids[i], r.d, r.state, r.err)
		}
	}
	for i, ch := range pf {
		r := s.result(ch)
		if r.err != nil || r.state != docPayable || r.d.ID != pids[i] || r.d.Number != fmt.Sprintf("PF-%d", i) ||
			r.d.Total != int64(500+100*i) || r.d.Due != r.d.Total || r.d.CustomerID != s.cust[i%2] || r.d.Kind != store.KindProforma {
			t.Errorf("proforma %d: %+v %q %v", pids[i], r.d, r.state, r.err)
		}
	}
	lists, singles := s.requests(invoicesPath)
	t.Logf("%d invoice reads: %d id searches, %d single GETs", n, lists, singles)
	if lists > 6 || singles > docBatchInFlight || lists+singles > 8 {
		t.Errorf("%d invoice reads cost %d id searches and %d single GETs", n, lists, singles)
	}
	if lists, singles := s.requests(proformasPath); lists > 2 || singles > docBatchInFlight {
		t.Errorf("%d proforma reads cost %d id searches and %d single GETs", np, lists, singles)
	}
	if l := s.logs.All(); len(l) != 0 {
		t.Errorf("warnings: %v", l)
	}
}

// A read asked while a request for its document is out is answered by a
// request sent after it: it sees a change made in between, whether a
// request slot is free (it goes at once) or not (it waits for the next).
func TestDocBatchReadDuringARequestIsAnsweredByALaterOne(t *testing.T) {
	s := newBatchSite(t, splynxsim.Options{})
	a, b, c := s.invoice(0), s.invoice(1), s.invoice(2)
	setDue := func(id int64, cents int64) {
		s.sp.UpdateInvoice(id, func(inv *splynxsim.Invoice) { inv.Total, inv.Due = money.Amount(cents), money.Amount(cents) })
	}
	due := func(ch chan readResult) int64 {
		r := s.result(ch)
		if r.err != nil || r.state != docPayable {
			t.Fatalf("read: %+v %q %v", r.d, r.state, r.err)
		}
		return r.d.Due
	}
	s.h.hold()

	// A slot is free: the second read of a goes out at once, on its own.
	r1 := s.start(context.Background(), store.KindInvoice, a)
	s.heldRequest() // Splynx has answered r1: 10.00
	setDue(a, 1500)
	r2 := s.start(context.Background(), store.KindInvoice, a)
	s.heldRequest()
	s.h.release()
	if d1, d2 := due(r1), due(r2); d1 != 1000 || d2 != 1500 {
		t.Fatalf("a read asked after the change got %d (the one before it %d), want 1500", d2, d1)
	}

	// Both slots taken: the next reads wait for a request of their own.
	s.h.hold()
	r3 := s.start(context.Background(), store.KindInvoice, a)
	s.heldRequest() // answered: 15.00
	r4 := s.start(context.Background(), store.KindInvoice, b)
	s.heldRequest()
	setDue(a, 1700)
	r5 := s.start(context.Background(), store.KindInvoice, a)
	s.waitQueued(store.KindInvoice, 1)
	r6 := s.start(context.Background(), store.KindInvoice, c)
	s.waitQueued(store.KindInvoice, 2)
	s.sp.ResetRequests()
	s.h.next <- struct{}{} // one of r3, r4 returns; r5 and r6 go
	if p := s.heldRequest(); !strings.Contains(p, "main_attributes") {
		t.Errorf("the queued reads went as %s, want one id search", p)
	}
	s.h.release()
	if d3, d5 := due(r3), due(r5); d3 != 1500 || d5 != 1700 {
		t.Fatalf("a read asked after the change got %d (the one before it %d), want 1700", d5, d3)
	}
	if d4, d6 := due(r4), due(r6); d4 != 1100 || d6 != 1200 {
		t.Fatalf("other invoices: %d, %d", d4, d6)
	}
	if got := s.searchedIDs(invoicesPath); len(got) != 1 || !slices.Equal(got[0], sortedIDs(a, c)) {
		t.Fatalf("id searches: %v, want one of %d and %d", got, a, c)
	}
}

func sortedIDs(ids ...int64) []string {
	var out []string
	for _, id := range ids {
		out = append(out, fmt.Sprint(id))
	}
	slices.Sort(out)
	return out
}

// A Splynx that refuses the id search: every read is still answered, with
// single GETs, and for docBatchBackoff no search is tried again; one
// warning says so.
func TestDocBatchFallsBackToSingleReadsWhenSearchIsRefused(t *testing.T) {
	s := newBatchSite(t, splynxsim.Options{NoInSearch: true})
	const n = 10
	var ids []int64
	for i := range n {
		ids = append(ids, s.invoice(i))
	}
	check := func(chs []chan readResult) {
		t.Helper()
		for i, ch := range chs {
			r := s.result(ch)
			if r.err != nil || r.state != docPayable || r.d.ID != ids[i] || r.d.Due != int64(1000+100*i) || r.d.CustomerID != s.cust[i%2] {
				t.Errorf("invoice %d: %+v %q %v", ids[i], r.d, r.state, r.err)
			}
		}
	}
	wave := func() []chan readResult {
		var chs []chan readResult
		for _, id := range ids {
			chs = append(chs, s.start(context.Background(), store.KindInvoice, id))
		}
		return chs
	}
	s.sp.ResetRequests()
	s.h.hold()
	first := wave()
	s.waitQueued(store.KindInvoice, n-docBatchInFlight)
	s.h.release()
	check(first)
	lists, singles := s.requests(invoicesPath)
	if lists != 1 || singles != n {
		t.Fatalf("first wave: %d id searches, %d single GETs; want the one refused search and %d single GETs", lists, singles, n)
	}
	if l := s.logs.FilterMessageSnippet("id search failed").All(); len(l) != 1 ||
		l[0].ContextMap()["kind"] != store.KindInvoice || l[0].ContextMap()["ids"] != int64(n-docBatchInFlight) {
		t.Fatalf("warnings: %v", s.logs.All())
	}

	// The next wave, asked while requests are out, goes as single GETs at
	// once (as many as the Splynx client has slots for; held, they fill
	// them): no search is tried again.
	s.sp.ResetRequests()
	s.h.hold()
	second := wave()
	deadline := time.Now().Add(10 * time.Second)
	for held := 0; held+s.queued(store.KindInvoice) < splynx.DefaultMaxConcurrent; {
		select {
		case <-s.h.held:
			held++
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d held, %d queued", held, s.queued(store.KindInvoice))
		}
	}
	s.h.release()
	check(second)
	if lists, singles := s.requests(invoicesPath); lists != 0 || singles != n {
		t.Fatalf("second wave: %d id searches, %d single GETs; want none and %d", lists, singles, n)
	}
	if l := s.logs.All(); len(l) != 1 {
		t.Fatalf("%d warnings, want 1", len(l))
	}
}

// In an id search's answer: a paid invoice is paid, a deleted one gone; one
// missing from the answer is read with a single GET, whose 404 alone says
// gone (the list may leave out an invoice that exists).
func TestDocBatchMissingPaidAndDeletedInvoices(t *testing.T) {
	s := newBatchSite(t, splynxsim.Options{})
	pad1, pad2, ok, hidden, purged, deleted := s.invoice(0), s.invoice(1), s.invoice(2), s.invoice(3), s.invoice(4), s.invoice(5)
	paid := s.sp.AddInvoice(splynxsim.Invoice{CustomerID: s.cust[0], Number: "B-PAID", Total: 900, Status: "paid"})
	zero := s.invoice(7)
	s.sp.UpdateInvoice(zero, func(inv *splynxsim.Invoice) { inv.Due = 0 })
	s.sp.HideFromLists(true, hidden)
	if !s.sp.PurgeInvoice(purged) {
		t.Fatal("purge")
	}
	if err := s.sp.DeleteInvoice(deleted); err != nil {
		t.Fatal(err)
	}
	s.sp.ResetRequests()
	s.h.hold()
	s.start(context.Background(), store.KindInvoice, pad1)
	s.heldRequest()
	s.start(context.Background(), store.KindInvoice, pad2)
	s.heldRequest()
	want := map[int64]string{ok: docPayable, hidden: docPayable, purged: docGone, deleted: docGone, paid: docPaid, zero: docPaid}
	got := map[int64]chan readResult{}
	for _, id := range []int64{ok, hidden, purged, deleted, paid, zero} {
		got[id] = s.start(context.Background(), store.KindInvoice, id)
	}
	s.waitQueued(store.KindInvoice, len(want))
	s.h.release()
	for id, state := range want {
		r := s.result(got[id])
		if r.err != nil || r.state != state {
			t.Errorf("invoice %d: %q %v, want %q", id, r.state, r.err, state)
		}
		if state == docPayable && (r.d.ID != id || r.d.Due == 0) {
			t.Errorf("invoice %d: %+v", id, r.d)
		}
	}
	if ids := s.searchedIDs(invoicesPath); len(ids) != 1 || len(ids[0]) != len(want) {
		t.Fatalf("id searches: %v", ids)
	}
	single := map[string]int{}
	for _, r := range s.sp.Requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, invoicesPath+"/") {
			single[strings.TrimPrefix(r.Path, invoicesPath+"/")]++
		}
	}
	if len(single) != 4 || single[fmt.Sprint(hidden)] != 1 || single[fmt.Sprint(purged)] != 1 {
		t.Fatalf("single GETs: %v; want the two first reads and the two missing from the search", single)
	}
	if l := s.logs.All(); len(l) != 0 {
		t.Errorf("warnings: %v", l)
	}
}

// A reader whose context ends returns at once with its error; the request
// it was in goes on and answers the others, and a reader that gave up
// before its request went is left out of it.
func TestDocBatchReaderGivingUpLeavesTheOthers(t *testing.T) {
	s := newBatchSite(t, splynxsim.Options{})
	var ids []int64
	for i := range 8 {
		ids = append(ids, s.invoice(i))
	}
	s.sp.ResetRequests()
	s.h.hold()
	var chs []chan readResult
	for i := range docBatchInFlight {
		chs = append(chs, s.start(context.Background(), store.KindInvoice, ids[i]))
		s.heldRequest()
	}
	// The first reader queued: its context would be the search's, were it
	// not cut loose.
	firstCtx, cancelFirst := context.WithCancel(context.Background())
	defer cancelFirst()
	first := s.start(firstCtx, store.KindInvoice, ids[2])
	s.waitQueued(store.KindInvoice, 1)
	for _, id := range ids[3:7] {
		chs = append(chs, s.start(context.Background(), store.KindInvoice, id))
	}
	quitterCtx, cancelQuitter := context.WithCancel(context.Background())
	quitter := s.start(quitterCtx, store.KindInvoice, ids[7])
	s.waitQueued(store.KindInvoice, 6)
	cancelQuitter() // gives up while queued
	if r := s.result(quitter); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("a reader that gave up: %+v %v", r.d, r.err)
	}
	s.h.next <- struct{}{}
	if p := s.heldRequest(); !strings.Contains(p, "main_attributes") {
		t.Fatalf("the queued reads went as %s, want one id search", p)
	}
	cancelFirst() // gives up while its search is out
	if r := s.result(first); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("a reader that gave up: %+v %v", r.d, r.err)
	}
	s.h.release()
	for _, ch := range chs {
		r := s.result(ch)
		i := slices.Index(ids, r.d.ID)
		if r.err != nil || i < 0 || r.state != docPayable || r.d.Due != int64(1000+100*i) {
			t.Errorf("read: %+v %q %v", r.d, r.state, r.err)
		}
	}
	lists, singles := s.requests(invoicesPath)
	if lists != 1 || singles != docBatchInFlight {
		t.Fatalf("%d id searches, %d single GETs; want the search to have been answered, not retried one by one", lists, singles)
	}
	if got := s.searchedIDs(invoicesPath); !slices.Equal(got[0], sortedIDs(ids[2:7]...)) {
		t.Fatalf("searched %v, want %v (not the reader that gave up first)", got[0], sortedIDs(ids[2:7]...))
	}
	if l := s.logs.All(); len(l) != 0 {
		t.Errorf("warnings: %v", l)
	}
}

// An id search's answer says of each document what liveDoc's single GET
// says (liveDoc in portal_pay.go keeps its own copy of the status rules;
// this keeps the two alike).
func TestDocBatchAnswersAsLiveDoc(t *testing.T) {
	s := newBatchSite(t, splynxsim.Options{})
	var invs, pfs []int64
	for _, st := range []string{"not_paid", "paid", "pending", "deleted"} {
		invs = append(invs, s.sp.AddInvoice(splynxsim.Invoice{CustomerID: s.cust[0], Number: "I-" + st, Total: 1234, Status: st,
			DateTill: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}))
		pfs = append(pfs, s.sp.AddProforma(splynxsim.Proforma{CustomerID: s.cust[1], Number: "P-" + st, Total: 4321, Status: st}))
	}
	part := s.invoice(9)
	s.sp.UpdateInvoice(part, func(inv *splynxsim.Invoice) { inv.Due = 0 })
	invs = append(invs, part)
	zero := s.sp.AddProforma(splynxsim.Proforma{CustomerID: s.cust[1], Number: "P-zero", Total: 0, Status: "not_paid"})
	pfs = append(pfs, zero)
	for kind, ids := range map[string][]int64{store.KindInvoice: invs, store.KindProforma: pfs} {
		answers := map[int64]docAnswer{}
		if err := searchDocs(context.Background(), s.b, kind, ids, answers); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			d, state, err := liveDoc(context.Background(), s.b, kind, id)
			a, ok := answers[id]
			if err != nil || !ok || a.err != nil || !reflect.DeepEqual(a.d, d) || a.state != state {
				t.Errorf("%s %d: search %+v %q, single GET %+v %q %v", kind, id, a.d, a.state, d, state, err)
			}
		}
	}
}
