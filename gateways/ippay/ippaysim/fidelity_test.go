package ippaysim

import (
	"strings"
	"testing"
	"time"
)

func achCheck(tid, txid, tok, amount string) string {
	return doc("ippay", "TransactionType", "CHECK", "TerminalID", tid, "TransactionID", txid, "raw",
		`<ACH Type="CHECKING" SEC="PPD"><CheckNumber>100</CheckNumber><Token>`+tok+`</Token></ACH>`, "CardName", "Tofu Beast", "TotalAmount", amount)
}

// BOP 0.10's t/check.t: CHECK on the card test terminal is accepted.
func TestFidelityCardTerminalTakesACH(t *testing.T) {
	e := newSimEnv(t, Options{})
	p := e.post(doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "ABA", "111000025", "AccountNumber", "12345"))
	e.expect(p, "000", "ResponseText", "TOKENIZED")
	e.expect(e.post(achCheck("CARD", "ONE1", p.Fields["Token"], "4995")), "000", "ResponseText", "CHECK ACCEPTED", "Approval", "000000")
	e.expect(e.post(doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", "ONE1")), "000", "ResponseText", "CHECK ACCEPTED")
	// An ACH-only terminal still takes no cards.
	e.expect(e.post(doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "ACH", "CardNum", "4111111111111111", "CardExpMonth", "12", "CardExpYear", "29")), "996")

	split := newSimEnv(t, Options{Fidelity: Fidelity{SplitTerminals: true}})
	split.expect(split.post(doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "ABA", "111000025", "AccountNumber", "12345")), "996")
	split.expect(split.post(achCheck("CARD", "ONE2", "X", "4995")), "996")
}

// VOIDACH is refused unless the option restores it; REVERSAL still works.
func TestFidelityVoidACHWithdrawn(t *testing.T) {
	e := newSimEnv(t, Options{})
	tok := e.tokenizeBank()
	e.expect(e.post(achCheck("ACH", "VA1", tok, "2000")), "000")
	voidach := strings.Replace(achCheck("ACH", "VA1", tok, "2000"), ">CHECK<", ">VOIDACH<", 1)
	p := e.post(voidach)
	e.expect(p, "012")
	if !strings.Contains(p.Fields["ErrMsg"], "no longer supported") {
		t.Errorf("ErrMsg %q", p.Fields["ErrMsg"])
	}
	e.expect(e.post(strings.Replace(voidach, ">VOIDACH<", ">REVERSAL<", 1)), "000", "ResponseText", "CHECK ACCEPTED")
	for _, x := range e.sim.Ledger() {
		if x.Type == "VOIDACH" {
			t.Errorf("refused VOIDACH in the ledger: %+v", x)
		}
		if x.Type == "CHECK" && (x.State != "pending" || x.Refunded != 2000) {
			t.Errorf("CHECK %+v", x)
		}
	}
}

// 900 on the current gateway, 912 on the old JetPay one; a Luhn-valid
// number listed in InvalidCards gets the same answer.
func TestFidelityInvalidCardCode(t *testing.T) {
	tok := func(pan string) string {
		return doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "IC"+pan[12:], "CardNum", pan,
			"CardExpMonth", "12", "CardExpYear", "29", "TotalAmount", "100")
	}
	e := newSimEnv(t, Options{Fidelity: Fidelity{InvalidCards: []string{"4000300020001000"}}})
	e.expect(e.post(tok("4111111111111112")), "900", "ResponseText", "Invalid card number.")
	e.expect(e.post(tok("4000300020001000")), "900")
	e.expect(e.post(tok("4111111111111111")), "000")
	old := newSimEnv(t, Options{Fidelity: Fidelity{LegacyInvalidCard: true}})
	old.expect(old.post(tok("4111111111111112")), "912", "ResponseText", "INVALID CARD NUMBER")
}

// ENQ says what became of an item; EnqReplaysOriginal keeps the old echo.
func TestFidelityENQReportsState(t *testing.T) {
	for _, replay := range []bool{false, true} {
		e := newSimEnv(t, Options{Fidelity: Fidelity{EnqReplaysOriginal: replay}})
		tok := e.tokenizeCard()
		sale := func(id, amount string) {
			e.expect(e.post(doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", id, "Token", tok, "TotalAmount", amount)), "000")
		}
		enq := func(id string) parsed {
			return e.post(doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", id))
		}
		sale("EV1", "1000")
		approval := enq("EV1").Fields["Approval"]
		e.expect(e.post(doc("ippay", "TransactionType", "VOID", "TerminalID", "CARD", "TransactionID", "EV1", "Approval", approval, "Token", tok, "TotalAmount", "1000")), "000")
		sale("EV2", "3000")
		e.sim.Clock().Advance(24 * time.Hour)
		e.expect(e.post(doc("ippay", "TransactionType", "CREDIT", "TerminalID", "CARD", "TransactionID", "EV2", "Token", tok, "TotalAmount", "1000")), "000")
		want := map[string]string{"EV1": "VOIDED", "EV2": "PARTIALLY REFUNDED"}
		if replay {
			want = map[string]string{"EV1": "APPROVED", "EV2": "APPROVED"}
		}
		for id, text := range want {
			e.expect(enq(id), "000", "ResponseText", text, "TransactionID", id)
		}
	}
}

// A lost answer with VoidAfter: applied, then voided by the gateway.
func TestFidelityAutoVoidAfterLostAnswer(t *testing.T) {
	e := newSimEnv(t, Options{})
	tok := e.tokenizeCard()
	e.sim.SetFault(Fault{Types: []string{"SALE"}, Count: 1, LoseResponse: true, VoidAfter: true})
	resp, err := e.srv.Client().Post(e.srv.URL+"/ippay", "text/xml", strings.NewReader(
		doc("ippay", "TransactionType", "SALE", "TerminalID", "CARD", "TransactionID", "AV1", "Token", tok, "TotalAmount", "1000")))
	if err == nil {
		resp.Body.Close()
		t.Fatal("answer not lost")
	}
	e.expect(e.post(doc("ippay", "TransactionType", "ENQ", "TerminalID", "CARD", "TransactionID", "AV1")), "000", "ResponseText", "VOIDED")
	var types []string
	for _, x := range e.sim.Ledger() {
		types = append(types, x.Type+"/"+x.State)
	}
	if got := strings.Join(types, ","); got != "SALE/voided,AUTOVOID/" {
		t.Errorf("ledger %s", got)
	}
}

// TOKENIZE and PING sent without a TransactionID get one from the gateway.
func TestFidelityTransactionIDAssigned(t *testing.T) {
	e := newSimEnv(t, Options{})
	seen := map[string]bool{}
	for _, body := range []string{
		doc("ippay", "TransactionType", "PING", "TerminalID", "CARD"),
		doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "CardNum", "4111111111111111", "CardExpMonth", "12", "CardExpYear", "29"),
		doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "ACH", "ABA", "111000025", "AccountNumber", "12345"),
		doc("ippay", "TransactionType", "TOKENIZE", "TerminalID", "CARD", "CardNum", "4111111111111112", "CardExpMonth", "12", "CardExpYear", "29"),
	} {
		id := e.post(body).Fields["TransactionID"]
		if !validID(id) || len(id) != 18 || seen[id] {
			t.Errorf("assigned TransactionID %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
	e.expect(e.post(doc("ippay", "TransactionType", "PING", "TerminalID", "CARD", "TransactionID", "MINE1")), "000", "TransactionID", "MINE1")
}
