package ippaysim

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

type simEnv struct {
	t   *testing.T
	sim *Sim
	srv *httptest.Server
}

func newSimEnv(t *testing.T, opts Options) *simEnv {
	t.Helper()
	s := New(opts)
	s.AddTerminal("CARD", false)
	s.AddTerminal("ACH", true)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &simEnv{t: t, sim: s, srv: srv}
}

// reply is what a test reads back: the root name and the flat fields.
type parsed struct {
	Root   string
	Fields map[string]string
	Status int
}

func (e *simEnv) post(body string) parsed {
	e.t.Helper()
	resp, err := e.srv.Client().Post(e.srv.URL+"/ippay", "text/xml", strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := parsed{Fields: map[string]string{}, Status: resp.StatusCode}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	var name string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if p.Root == "" {
				p.Root = t.Name.Local
			}
			name = t.Name.Local
			p.Fields[name] = ""
		case xml.CharData:
			if name != "" {
				p.Fields[name] += strings.TrimSpace(string(t))
			}
		case xml.EndElement:
			name = ""
		}
	}
	return p
}

func doc(root string, kv ...string) string {
	var b strings.Builder
	b.WriteString("<" + root + ">")
	for i := 0; i+1 < len(kv); i += 2 {
		if strings.HasPrefix(kv[i+1], "<") || kv[i] == "raw" {
			b.WriteString(kv[i+1])
			continue
		}
		b.WriteString("<" + kv[i] + ">" + kv[i+1] + "</" + kv[i] + ">")
	}
	b.WriteString("</" + root + ">")
	return b.String()
}

func (e *simEnv) expect(p parsed, code string, fields ...string) {
	e.t.Helper()
	if p.Fields["ActionCode"] != code {
		e.t.Fatalf("ActionCode %q, want %q (%v)", p.Fields["ActionCode"], code, p.Fields)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if got := p.Fields[fields[i]]; got != fields[i+1] {
			e.t.Errorf("%s = %q, want %q", fields[i], got, fields[i+1])
		}
	}
}

func (e *simEnv) tokenizeCard() string {
	e.t.Helper()
	p := e.post(doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "CardNum", "4111111111111111", "CardExpMonth", "12", "CardExpYear", "29"))
	e.expect(p, "000", "ResponseText", "TOKENIZED")
	if p.Root != "IPPayResponse" {
		e.t.Errorf("TOKENIZE root %q, want IPPayResponse", p.Root)
	}
	return p.Fields["Token"]
}

func (e *simEnv) tokenizeBank() string {
	e.t.Helper()
	p := e.post(doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "ACH", "ABA", "111000025", "AccountNumber", "000123456789"))
	e.expect(p, "000", "ResponseText", "TOKENIZED")
	return p.Fields["Token"]
}

func TestRootsAndTerminals(t *testing.T) {
	e := newSimEnv(t, Options{})
	p := e.post(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD"))
	e.expect(p, "000", "ResponseText", "PING")
	if p.Root != "ippayResponse" {
		t.Errorf("root %q", p.Root)
	}
	p = e.post(doc("JetPay", "TransactionType", "PING", "TerminalID", "CARD", "TransactionID", "AB12"))
	e.expect(p, "000", "TransactionID", "AB12")
	if p.Root != "JetPayResponse" {
		t.Errorf("JetPay root %q", p.Root)
	}
	e.expect(e.post(doc("ippay", "TransactionType", "PING", "TerminalID", "NOPE")), "996", "ResponseText", "BAD TERMINAL ID")
	e.expect(e.post(doc("ippay", "TransactionType", "PING")), "996")
	// A card terminal takes ACH (see TestFidelity...); an ACH one no cards.
	e.expect(e.post(doc("ippay", "TransactionType", "CHECK", "TerminalID", "CARD")), "921")
	e.expect(e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "ACH")), "996")
	e.expect(e.post("<ippay><TransactionType>SALE"), "921")
	e.expect(e.post("<other/>"), "921")
	e.expect(e.post(doc("ippay", "TransactionType", "FROB", "TerminalID", "CARD")), "921")
	e.expect(e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "BAD-ID")), "921")
	if p := e.post(doc("ippay", "TransactionType", "FROB", "TerminalID", "CARD")); p.Fields["ErrMsg"] == "" {
		t.Error("9xx without ErrMsg")
	}
}

func TestValidationCodes(t *testing.T) {
	e := newSimEnv(t, Options{})
	tests := []struct {
		name string
		body string
		code string
	}{
		{"bad luhn", doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "CardNum", "4111111111111112", "CardExpMonth", "12", "CardExpYear", "29"), "900"},
		{"expired", doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "CardNum", "4111111111111111", "CardExpMonth", "01", "CardExpYear", "25"), "917"},
		{"bad expiry", doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "CardNum", "4111111111111111", "CardExpMonth", "13", "CardExpYear", "29"), "921"},
		{"bad aba", doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "ACH", "ABA", "111000026", "AccountNumber", "12345678"), "923"},
		{"bad dda", doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "ACH", "ABA", "111000025", "AccountNumber", "12"), "924"},
		{"sale no amount", doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "V1", "CardNum", "4111111111111111", "CardExpMonth", "12", "CardExpYear", "29"), "921"},
		{"sale dollars", doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "V2", "Token", "X", "TotalAmount", "10.00"), "920"},
		{"sale no card", doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "V3", "TotalAmount", "1000"), "921"},
		{"sale unknown token", doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "V4", "Token", "NOPE", "TotalAmount", "1000"), "940"},
		{"check no ach", doc("ippay", "TransactionType", "CHECK", "TerminalID", "ACH", "TransactionID", "V5", "CardName", "Jo", "TotalAmount", "1000"), "921"},
		{"check no name", doc("ippay", "TransactionType", "CHECK", "TerminalID", "ACH", "TransactionID", "V6", "raw", `<ACH Type="CHECKING" SEC="WEB"><ABA>111000025</ABA><AccountNumber>1234567</AccountNumber><CheckNumber>101</CheckNumber></ACH>`, "TotalAmount", "1000"), "921"},
		{"check bad aba", doc("ippay", "TransactionType", "CHECK", "TerminalID", "ACH", "TransactionID", "V7", "raw", `<ACH Type="CHECKING" SEC="PPD"><ABA>123456789</ABA><AccountNumber>1234567</AccountNumber><CheckNumber>101</CheckNumber></ACH>`, "CardName", "Jo", "TotalAmount", "1000"), "923"},
		{"check bad type", doc("ippay", "TransactionType", "CHECK", "TerminalID", "ACH", "TransactionID", "V8", "raw", `<ACH Type="BROKERAGE" SEC="PPD"><ABA>111000025</ABA><AccountNumber>1234567</AccountNumber><CheckNumber>101</CheckNumber></ACH>`, "CardName", "Jo", "TotalAmount", "1000"), "921"},
		{"check no checknumber", doc("ippay", "TransactionType", "CHECK", "TerminalID", "ACH", "TransactionID", "V9", "raw", `<ACH Type="CHECKING" SEC="PPD"><ABA>111000025</ABA><AccountNumber>1234567</AccountNumber></ACH>`, "CardName", "Jo", "TotalAmount", "1000"), "921"},
		{"enq no id", doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD"), "921"},
		{"enq unknown (answer not public)", doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", "NOSUCH"), ""},
		{"capt unknown", doc("ippay", "TransactionType", "CAPT", "TerminalID", "CARD", "TransactionID", "NOSUCH"), "025"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.expect(e.post(tc.body), tc.code)
		})
	}
	if n := len(e.sim.Ledger()); n != 0 {
		t.Errorf("rejected requests entered the ledger: %d", n)
	}
}

func TestCardLifecycle(t *testing.T) {
	e := newSimEnv(t, Options{})
	tok := e.tokenizeCard()
	if !regexp.MustCompile(`^[A-Z]{24}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	sale := func(id, amount string) parsed {
		return e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", id, "Origin", "RECURRING", "Token", tok, "TotalAmount", amount))
	}
	p := sale("S1", "1000")
	e.expect(p, "000", "ResponseText", "APPROVED", "TransactionID", "S1", "AVS", "Y", "CVV2", "P")
	approval := p.Fields["Approval"]
	if !regexp.MustCompile(`^TEST\d\d$`).MatchString(approval) {
		t.Errorf("approval %q", approval)
	}
	// Decline table by cents.
	e.expect(sale("S2", "1051"), "051", "ResponseText", "DECLINED")
	e.expect(sale("S3", "2205"), "005")
	// ENQ echoes the stored result.
	e.expect(e.post(doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", "S2")), "051")
	e.expect(e.post(doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", "S1")), "000", "Approval", approval)
	// VOID needs the matching approval, then works once.
	e.expect(e.post(doc("ippay", "TransactionType", "VOID", "TerminalID", "CARD", "TransactionID", "S1", "Approval", "WRONG1", "Token", tok, "TotalAmount", "1000")), "921")
	e.expect(e.post(doc("ippay", "TransactionType", "VOID", "TerminalID", "CARD", "TransactionID", "S1", "Approval", approval, "Token", tok, "TotalAmount", "1000")), "000", "ResponseText", "VOID PROCESSED")
	e.expect(e.post(doc("ippay", "TransactionType", "VOID", "TerminalID", "CARD", "TransactionID", "S1", "Approval", approval, "Token", tok)), "025")
	// After the batch: no VOID, linked CREDIT up to the amount.
	p = sale("S4", "5000")
	e.sim.Clock().Advance(10 * time.Hour) // 15:00 → 01:00 next day, past midnight
	e.expect(e.post(doc("ippay", "TransactionType", "VOID", "TerminalID", "CARD", "TransactionID", "S4", "Approval", p.Fields["Approval"], "Token", tok)), "025")
	e.expect(e.post(doc("ippay", "TransactionType", "CREDIT", "TerminalID", "CARD", "TransactionID", "S4", "Token", tok, "TotalAmount", "3000")), "000", "ResponseText", "RETURN ACCEPTED")
	e.expect(e.post(doc("ippay", "TransactionType", "CREDIT", "TerminalID", "CARD", "TransactionID", "S4", "Token", tok, "TotalAmount", "2001")), "943")
	// Unlinked CREDIT with a new ID.
	e.expect(e.post(doc("ippay", "TransactionType", "CREDIT", "TerminalID", "CARD", "TransactionID", "C1", "Token", tok, "TotalAmount", "700")), "000", "ResponseText", "RETURN ACCEPTED")
	// AUTHONLY → CAPT (not above the authorization).
	e.expect(e.post(doc("ippay", "TransactionType", "AUTHONLY", "TerminalID", "CARD", "TransactionID", "A1", "Token", tok, "TotalAmount", "900")), "000")
	e.expect(e.post(doc("ippay", "TransactionType", "CAPT", "TerminalID", "CARD", "TransactionID", "A1", "TotalAmount", "901")), "920")
	e.expect(e.post(doc("ippay", "TransactionType", "CAPT", "TerminalID", "CARD", "TransactionID", "A1", "TotalAmount", "800")), "000")
	e.expect(e.post(doc("ippay", "TransactionType", "CAPT", "TerminalID", "CARD", "TransactionID", "A1", "TotalAmount", "800")), "025")
	// SALE with a card number tokenized on the way; CVV given → M.
	p = e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "S5", "raw", `<CardNum Tokenize="true">4111111111111111</CardNum>`, "CVV2", "123", "CardExpMonth", "01", "CardExpYear", "30", "TotalAmount", "100"))
	e.expect(p, "000", "CVV2", "M")
	if p.Fields["Token"] == "" || p.Fields["Token"] == tok {
		t.Errorf("SALE tokenize gave %q", p.Fields["Token"])
	}

	var got []string
	for _, x := range e.sim.Ledger() {
		got = append(got, x.TransactionID+":"+x.Type+":"+x.ActionCode+":"+x.State)
	}
	want := "S1:SALE:000:voided S2:SALE:051:declined S3:SALE:005:declined S1:VOID:000: S4:SALE:000:settled S4:CREDIT:000: " +
		"C1:CREDIT:000:approved A1:AUTHONLY:000:approved A1:CAPT:000: S5:SALE:000:approved"
	if strings.Join(got, " ") != want {
		t.Errorf("ledger\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestTokenExpiryAndUpdate(t *testing.T) {
	e := newSimEnv(t, Options{})
	tok := e.tokenizeCard() // expires 12/29
	e.sim.Clock().Set(time.Date(2030, 1, 15, 12, 0, 0, 0, time.UTC))
	e.expect(e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "E1", "Token", tok, "TotalAmount", "100")), "054")
	e.expect(e.post(doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "Token", tok, "CardExpMonth", "06", "CardExpYear", "33")), "000", "Token", tok)
	e.expect(e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "E2", "Token", tok, "TotalAmount", "100")), "000")
}

func TestDuplicates(t *testing.T) {
	for _, mode := range []DuplicateMode{DuplicateDecline, DuplicateReplay} {
		e := newSimEnv(t, Options{Duplicates: mode})
		tok := e.tokenizeCard()
		body := doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "D1", "Token", tok, "TotalAmount", "100")
		first := e.post(body)
		again := e.post(body)
		if mode == DuplicateDecline {
			e.expect(again, "094", "ResponseText", "DUPLICATE TRANSMISSION")
		} else {
			e.expect(again, "000", "Approval", first.Fields["Approval"])
		}
		e.sim.Clock().Advance(91 * 24 * time.Hour)
		e.expect(e.post(body), "000") // the 90-day window has passed
		if n := len(e.sim.Ledger()); n != 2 {
			t.Errorf("mode %d: %d ledger entries, want 2", mode, n)
		}
	}
}

func TestACHLifecycleAndReturns(t *testing.T) {
	e := newSimEnv(t, Options{ACHSettleDays: 2, Inferred: true, Fidelity: Fidelity{VoidACH: true}})
	tok := e.tokenizeBank()
	check := func(id, amount string) parsed {
		return e.post(doc("ippay", "TransactionType", "CHECK", "TerminalID", "ACH", "TransactionID", id, "raw",
			`<ACH Type="CHECKING" SEC="WEB"><CheckNumber>101</CheckNumber><Token>`+tok+`</Token></ACH>`, "CardName", "Jo Smith", "TotalAmount", amount))
	}
	// Even "declining" cents are accepted: ACH failures come as returns.
	e.expect(check("K1", "1051"), "000", "ResponseText", "CHECK ACCEPTED", "Approval", "000000")
	e.expect(check("K2", "2000"), "000")
	e.expect(check("K3", "3000"), "000")
	if _, ok := check("K4", "1277").Fields["AdditionalInfo"]; !ok {
		t.Error("review cents without AdditionalInfo")
	}
	voidach := doc("ippay", "TransactionType", "VOIDACH", "TerminalID", "ACH", "TransactionID", "K3", "raw",
		`<ACH Type="CHECKING" SEC="WEB"><CheckNumber>101</CheckNumber><Token>`+tok+`</Token></ACH>`, "CardName", "Jo Smith", "TotalAmount", "3000")
	e.expect(e.post(voidach), "000", "ResponseText", "CHECK ACCEPTED")
	// Monday 15:00 → the file goes at Tuesday 00:00; settled 2 business days after that (Thursday 00:00).
	e.sim.Clock().Advance(9*time.Hour + 1*time.Minute)
	e.expect(e.post(strings.Replace(voidach, "K3", "K2", 1)), "025") // too late for VOIDACH
	if err := e.sim.InjectReturn("K1", "R01"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.InjectReturn("K3", "R01"); err == nil {
		t.Error("return of a voided item accepted")
	}
	states := func() string {
		var s []string
		for _, x := range e.sim.Ledger() {
			if x.Type == "CHECK" {
				s = append(s, x.TransactionID+"="+x.State)
			}
		}
		return strings.Join(s, ",")
	}
	if got := states(); got != "K1=returned,K2=pending,K3=voided,K4=pending" {
		t.Errorf("tuesday states %s", got)
	}
	e.sim.Clock().Set(time.Date(2026, 11, 4, 23, 59, 0, 0, time.UTC))
	if got := states(); got != "K1=returned,K2=pending,K3=voided,K4=pending" {
		t.Errorf("wednesday states %s", got)
	}
	e.sim.Clock().Set(time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC))
	if got := states(); got != "K1=returned,K2=settled,K3=voided,K4=settled" {
		t.Errorf("thursday states %s", got)
	}
	// REVERSAL credits a settled item back, linked by its ID.
	reversal := strings.Replace(strings.Replace(voidach, "VOIDACH", "REVERSAL", 1), "K3", "K2", 1)
	e.expect(e.post(reversal), "943") // 3000 is more than the item's 2000
	e.expect(e.post(strings.Replace(reversal, "<TotalAmount>3000", "<TotalAmount>500", 1)), "000", "ResponseText", "CHECK ACCEPTED")
	e.expect(e.post(strings.Replace(strings.Replace(reversal, "K2", "K1", 1), "<TotalAmount>3000", "<TotalAmount>500", 1)), "025") // returned
	for _, x := range e.sim.Ledger() {
		if x.TransactionID == "K2" && x.Type == "CHECK" && x.Refunded != 500 {
			t.Errorf("K2 refunded %d, want 500", x.Refunded)
		}
	}
	resp, err := e.srv.Client().Get(e.srv.URL + "/returns.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "TransactionID,ReturnCode,ReturnDate,Amount\r\nK1,R01,2026-11-03,10.51\r\n"; string(b) != want {
		t.Errorf("returns report %q, want %q", b, want)
	}
}

// The returns report is our inference of an IPpay export: without
// Options.Inferred the simulator does not serve it.
func TestReturnsReportOnlyWhenInferred(t *testing.T) {
	e := newSimEnv(t, Options{})
	resp, err := e.srv.Client().Get(e.srv.URL + "/returns.csv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("returns report without Inferred: %d, want 404", resp.StatusCode)
	}
}

func TestAllowList(t *testing.T) {
	e := newSimEnv(t, Options{AllowIPs: []string{"192.0.2.1"}})
	_, err := e.srv.Client().Post(e.srv.URL+"/ippay", "text/xml", strings.NewReader(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD")))
	if err == nil {
		t.Error("blocked caller got a reply")
	}
	e2 := newSimEnv(t, Options{AllowIPs: []string{"192.0.2.1"}, BlockStatus: http.StatusForbidden})
	if p := e2.post(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD")); p.Status != http.StatusForbidden {
		t.Errorf("status %d", p.Status)
	}
	e3 := newSimEnv(t, Options{AllowIPs: []string{"127.0.0.1", "::1"}})
	e3.expect(e3.post(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD")), "000")
}

func TestFaults(t *testing.T) {
	e := newSimEnv(t, Options{})
	tok := e.tokenizeCard()
	sale := func(id string) (*http.Response, error) {
		return e.srv.Client().Post(e.srv.URL+"/ippay", "text/xml",
			strings.NewReader(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", id, "Token", tok, "TotalAmount", "100")))
	}
	e.sim.SetFault(Fault{Types: []string{"SALE"}, Count: 1, Status: 500})
	if r, err := sale("F1"); err != nil || r.StatusCode != 500 {
		t.Errorf("500 fault: %v %v", r, err)
	}
	e.sim.SetFault(Fault{Types: []string{"SALE"}, Count: 1, LoseResponse: true})
	if _, err := sale("F2"); err == nil {
		t.Error("lost response delivered")
	}
	e.sim.SetFault(Fault{Types: []string{"SALE"}, Count: 1, Malformed: true})
	r, err := sale("F3")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if err := xml.Unmarshal(b, new(struct{})); err == nil {
		t.Errorf("malformed fault gave well-formed %q", b)
	}
	e.sim.SetFault(Fault{Types: []string{"SALE"}, Count: 1, EchoRequest: true})
	r, _ = sale("F4")
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), "<ActionCode>921</ActionCode>") || !strings.Contains(string(b), tok) {
		t.Errorf("echo fault %q", b)
	}
	e.sim.SetFault(Fault{Types: []string{"SALE"}, Count: 1, Drop: true})
	if _, err := sale("F5"); err == nil {
		t.Error("dropped request answered")
	}
	// Applied: F2 (lost) and F3 (malformed). Not applied: F1 (500), F4 (echo), F5 (drop).
	var ids []string
	for _, x := range e.sim.Ledger() {
		ids = append(ids, x.TransactionID)
	}
	if got := strings.Join(ids, ","); got != "F2,F3" {
		t.Errorf("ledger %s, want F2,F3", got)
	}
	e.sim.SetFault(Fault{Latency: 50 * time.Millisecond})
	start := time.Now()
	e.expect(e.post(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD")), "000")
	if time.Since(start) < 50*time.Millisecond {
		t.Error("latency fault not applied")
	}
	e.sim.ClearFaults()
}

// ENQ's answer for an unknown TransactionID is a guess (025) served only
// with Options.Inferred; by default the reply has no ActionCode.
func TestEnqUnknownOnlyInferredSays025(t *testing.T) {
	enq := doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", "NOSUCH")
	def := newSimEnv(t, Options{})
	p := def.post(enq)
	def.expect(p, "", "TransactionID", "NOSUCH")
	if p.Fields["ErrMsg"] == "" {
		t.Errorf("default answer says nothing: %v", p.Fields)
	}
	inf := newSimEnv(t, Options{Inferred: true})
	inf.expect(inf.post(enq), "025", "ResponseText", "TRANSACTION NOT FOUND")
}
