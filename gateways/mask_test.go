package gateways

import (
	"fmt"
	"strings"
	"testing"
)

func TestMasks(t *testing.T) {
	if got := CardMask("", "4111 1111 1111 1111"); got != "Visa •••• 1111" {
		t.Errorf("CardMask = %q", got)
	}
}

func TestDetailsNeverPrintNumbers(t *testing.T) {
	c := CardDetails{Number: "4111111111111111", CVV: "123", ExpMonth: 1, ExpYear: 2030}
	b := BankDetails{Branch: "123456", AccountNumber: "987654321", AccountName: "A"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(b), fmt.Sprintf("%+v %#v", b, b), fmt.Sprintf("%v", SaveMethodRequest{Card: &c, Bank: &b})} {
		for _, secret := range []string{"4111111111111111", "987654321", "123456"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaks %s", s, secret)
			}
		}
	}
}
