package simkit

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPrefixLongestWinsAndSetReplaces(t *testing.T) {
	var in Injector
	in.Set(Prefix(""), Fault{Fail: 1, Status: 501})
	in.Set(Prefix("admin/customers/customer"), Fault{Fail: 1, Status: 502})
	if h := in.Take("GET", "admin/customers/customer-billing/7"); h == nil || h.Status != 502 {
		t.Fatalf("plain prefix: got %+v, want the longer rule (502)", h)
	}
	if h := in.Take("GET", "admin/finance/invoices"); h == nil || h.Status != 501 {
		t.Fatalf("catch-all: got %+v", h)
	}
	in.Set(Prefix("/admin/customers/customer/"), Fault{Fail: 1, Status: 503})
	if h := in.Take("GET", "admin/customers/customer"); h == nil || h.Status != 503 {
		t.Fatalf("Set did not replace: %+v", h)
	}
	if n := len(in.rules); n != 2 {
		t.Fatalf("%d rules after replacing one of two", n)
	}
}

func TestSegmentsFirstAddedWinsAndTimesDisarm(t *testing.T) {
	var in Injector
	in.Add(Segments("payers/*/transactions/card"), Fault{Fail: 1, Status: 500, Times: 1})
	in.Add(Segments(""), Fault{DropAfter: 1, Times: 1})
	if h := in.Take("POST", "payers"); h == nil || !h.DropAfter {
		t.Fatalf("short path: %+v", h)
	}
	if h := in.Take("POST", "payers/P1/transactions/card"); h == nil || !h.Fail || h.DropAfter {
		t.Fatalf("first added: %+v", h)
	}
	if h := in.Take("POST", "payers/P1/transactions/card"); h != nil {
		t.Fatalf("both rules spent, still %+v", h)
	}
}

func TestMethodAndOneOf(t *testing.T) {
	var in Injector
	in.Add(OneOf("sale", "CHECK"), Fault{Method: "POST", Malformed: 1})
	if h := in.Take("GET", "SALE"); h != nil {
		t.Fatalf("other method hit: %+v", h)
	}
	if h := in.Take("POST", "ENQ"); h != nil {
		t.Fatalf("other type hit: %+v", h)
	}
	if h := in.Take("post", "Sale"); h == nil || !h.Malformed {
		t.Fatalf("case-insensitive match missed: %+v", h)
	}
}

func TestChancesAreSeededAndOnlyFiredHitsCount(t *testing.T) {
	draw := func() (fired int, rules int) {
		var in Injector
		in.Add(Prefix(""), Fault{Fail: 0.5, Seed: 11, Times: 5})
		for i := 0; i < 40; i++ {
			if h := in.Take("GET", "x"); h != nil && h.Fail {
				fired++
			}
		}
		return fired, len(in.rules)
	}
	a, rules := draw()
	if b, _ := draw(); a != b {
		t.Fatalf("same seed, %d then %d failures", a, b)
	}
	if a != 5 || rules != 0 {
		t.Fatalf("Times 5 with chance 0.5: %d failures, %d rules left; want 5 and 0", a, rules)
	}
	var in Injector
	in.Add(Prefix(""), Fault{Times: 2, Tag: "echo"})
	for i := 0; i < 2; i++ {
		if h := in.Take("GET", "x"); h == nil || h.Tag != "echo" || h.Status != 500 {
			t.Fatalf("take %d: %+v", i, h)
		}
	}
	if h := in.Take("GET", "x"); h != nil {
		t.Fatalf("a certain rule counts every request; after Times 2 still %+v", h)
	}
}

func TestLogRingAndUpdate(t *testing.T) {
	l := NewLog[int](3)
	var seqs []int
	for i := 1; i <= 5; i++ {
		seqs = append(seqs, l.Add(i))
	}
	l.Update(seqs[4], func(v *int) { *v = 50 })
	l.Update(seqs[2], func(v *int) { *v = 30 })
	l.Update(seqs[0], func(v *int) { *v = 10 }) // dropped: no effect
	got := l.All()
	if len(got) != 3 || got[0] != 30 || got[1] != 4 || got[2] != 50 {
		t.Fatalf("ring = %v, want [30 4 50]", got)
	}
	l.SetOn(false)
	if l.Add(9) != -1 || len(l.All()) != 3 {
		t.Fatal("an off log recorded")
	}
	l.Reset()
	l.SetOn(true)
	var u Log[string]
	u.Add("a")
	s := u.Add("b")
	u.Update(s, func(v *string) { *v = "B" })
	if got := u.All(); len(got) != 2 || got[1] != "B" || len(l.All()) != 0 {
		t.Fatalf("unbounded log %v, reset log %v", got, l.All())
	}
}

func TestDropClosesWithoutAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/drop" {
			Drop(w)
			return
		}
		b := NewBuffer()
		b.Header().Set("X-Kept", "1")
		b.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(b, "kept")
		b.Flush(w)
	}))
	defer srv.Close()
	if resp, err := http.Get(srv.URL + "/drop"); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	resp, err := http.Get(srv.URL + "/keep")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || string(body) != "kept" || resp.Header.Get("X-Kept") != "1" {
		t.Fatalf("buffer flushed %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestWaitStopsWhenTheClientLeaves(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if !Wait(r, time.Millisecond) {
		t.Fatal("client still there, Wait said gone")
	}
	cr, stop := contextCancelled(r)
	defer stop()
	start := time.Now()
	if Wait(cr, time.Minute) || time.Since(start) > 10*time.Second {
		t.Fatal("Wait outlived its client")
	}
}

func contextCancelled(r *http.Request) (*http.Request, func()) {
	ctx, cancel := context.WithCancel(r.Context())
	cancel()
	return r.WithContext(ctx), cancel
}
