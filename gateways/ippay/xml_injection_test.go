package ippay

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
)

// TestCustomerTextIsEscapedInRequests (issue 15, XML injection): names and
// invoice numbers come from Splynx and the portal's forms, so they may be
// markup, a CDATA end or an entity. The simulator must receive them as
// text: the exact escaped bytes in <CardName> (CHECK) and <OrderNumber>
// (SALE), no element of their own, and the same text when parsed back.
func TestCustomerTextIsEscapedInRequests(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, nil)
	bank := e.saveBank(t)
	bank.HolderName = `Tom & "Jerry" <script>]]><TotalAmount>1</TotalAmount>`
	if _, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPINJECT0000000001", Method: bank, Amount: 1500}); err != nil {
		t.Fatal(err)
	}
	check := e.wire.last(t)
	wantName := `<CardName>Tom &amp; &#34;Jerry&#34; &lt;script&gt;]]&gt;&lt;TotalAmount&gt;1&lt;/TotalAmount&gt;</CardName>`
	if !strings.Contains(check, wantName) || strings.Count(check, "<TotalAmount>") != 1 || !strings.Contains(check, "<TotalAmount>1500</TotalAmount>") {
		t.Errorf("CHECK request:\n%s\nwant %s", check, wantName)
	}
	if got := parsed(t, check, "CardName"); got != bank.HolderName {
		t.Errorf("CardName parses back as %q", got)
	}

	card := e.saveCard(t)
	// An invoice number from Splynx.
	desc := `Invoice "><b>&]]>`
	if _, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPINJECT0000000002", Method: card, Amount: 1500, Description: desc}); err != nil {
		t.Fatal(err)
	}
	sale := e.wire.last(t)
	wantOrder := `<OrderNumber>Invoice &#34;&gt;&lt;b&gt;&amp;]]&gt;</OrderNumber>`
	if !strings.Contains(sale, wantOrder) || strings.Contains(sale, "<b>") {
		t.Errorf("SALE request:\n%s\nwant %s", sale, wantOrder)
	}
	if got := parsed(t, sale, "OrderNumber"); got != desc {
		t.Errorf("OrderNumber parses back as %q, want %q", got, desc)
	}
	// Cut to the statement's 25 characters before escaping: no entity is
	// cut in half.
	long := `Invoice 2026/0001 & <Co>&&&`
	if _, err := e.c.Charge(ctx, gateways.ChargeRequest{Reference: "SPINJECT0000000003", Method: card, Amount: 1500, Description: long}); err != nil {
		t.Fatal(err)
	}
	if got := parsed(t, e.wire.last(t), "OrderNumber"); got != long[:25] {
		t.Errorf("long OrderNumber parses back as %q, want %q", got, long[:25])
	}
	if n := len(e.entries("SALE")); n != 2 {
		t.Fatalf("the simulator recorded %d SALEs", n)
	}
}

// parsed is the text of the request's child element name.
func parsed(t *testing.T, doc, name string) string {
	t.Helper()
	var v struct {
		Children []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("the request is not well-formed XML: %v\n%s", err, doc)
	}
	n := 0
	text := ""
	for _, c := range v.Children {
		if c.XMLName.Local == name {
			n++
			text = c.Text
		}
	}
	if n != 1 {
		t.Fatalf("%d <%s> elements in\n%s", n, name, doc)
	}
	return text
}
