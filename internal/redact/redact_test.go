package redact

import (
	"strings"
	"testing"
)

func TestMasks(t *testing.T) {
	if got := MaskAccount("12345678"); got != "•••• 678" {
		t.Errorf("MaskAccount = %q", got)
	}
	if got := MaskAccount("123"); got != "••••" {
		t.Errorf("short MaskAccount = %q", got)
	}
}

func TestLuhn(t *testing.T) {
	for _, ok := range []string{"4111111111111111", "4000300020001000", "4242424242424242", "4007000000027"} {
		if !Luhn(ok) {
			t.Errorf("Luhn(%s) = false", ok)
		}
	}
	for _, bad := range []string{"4111111111111112", "1234", "41111111111111x1", ""} {
		if Luhn(bad) {
			t.Errorf("Luhn(%s) = true", bad)
		}
	}
}

func TestScrubDigits(t *testing.T) {
	in := `<ippay><CardNum>4111111111111111</CardNum><ABA>111000025</ABA><AccountNumber>1234567890</AccountNumber><TotalAmount>1000</TotalAmount></ippay>`
	out := ScrubDigits(in)
	for _, secret := range []string{"4111111111111111", "111000025", "1234567890"} {
		if strings.Contains(out, secret) {
			t.Errorf("ScrubDigits left %s in %s", secret, out)
		}
	}
	if !strings.Contains(out, "•••• 1111") || !strings.Contains(out, "<TotalAmount>1000<") {
		t.Errorf("ScrubDigits over-masked: %s", out)
	}
}
