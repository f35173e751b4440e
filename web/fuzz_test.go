package web

// Fuzz targets for every field a customer types into the payment forms
// (issue 15, Fuzzing): amounts, card number, expiry, CVV, names, BSB, ABA
// routing and account numbers. Seed corpora are in testdata/fuzz/<Target>;
// make fuzz runs each target for FUZZTIME.
//
// The properties: no panic; a value that is accepted is valid (an amount
// in cents within the bounds, a Luhn-valid card number of 12–19 digits, an
// expiry not in the past, a 6-digit BSB, an ABA number whose checksum
// holds, account numbers of the gateway's lengths, a name within its
// limit); a value that is refused returns nothing to the gateway, and no
// message shown for it contains the card, CVV, BSB, routing or account
// digits typed.

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
)

// fuzzNow is the day the card forms are checked on.
var fuzzNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func formRequest(f url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(f.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

var digitRun = regexp.MustCompile(`[0-9]+`)

// typedDigits are the digits of what was typed, as the form reads them
// (spaces and dashes dropped), when there are at least min of them.
func typedDigits(s string, min int) string {
	d := strings.Join(digitRun.FindAllString(s, -1), "")
	if len(d) < min {
		return ""
	}
	return d
}

// noEcho fails if any message contains one of the secrets, written with
// or without spaces and dashes. The BSB message's own example ("e.g.
// 062-000") is fixed text, not an echo.
func noEcho(t *testing.T, msgs map[string]string, secrets ...string) {
	t.Helper()
	for field, m := range msgs {
		plain := strings.NewReplacer("e.g. 062-000", "", " ", "", "-", "").Replace(m)
		for _, s := range secrets {
			if s != "" && strings.Contains(plain, s) {
				t.Fatalf("the %s message %q repeats the typed digits %q", field, m, s)
			}
		}
	}
}

// cleanName is a name a gateway can take: valid UTF-8, no control
// characters (checked here rune by rune, not with the code under test).
func cleanName(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}

func FuzzCardForm(f *testing.F) {
	f.Add("4111 1111 1111 1111", "12", "2030", "123", "John Smith")
	f.Add("4111111111111112", "01", "2027", "1234", "J")
	f.Add("5555-5555-5555-4444", "11", "2026", "999", "Ann")
	f.Add("", "", "", "", "")
	f.Add("４１１１１１１１１１１１１１１１", "١٢", "2030", "12a", strings.Repeat("é", 65))
	f.Add("411111111111111111111111", "0", "99999999999999999999", "-1", "\x00\xff")
	f.Add("4111 1111 1111 1111", "12", "2030", "123", "John\tSmith")
	f.Fuzz(func(t *testing.T, number, month, year, cvv, name string) {
		r := formRequest(url.Values{"card_number": {number}, "exp_month": {month}, "exp_year": {year}, "cvv": {cvv}, "card_name": {name}})
		card, form, ok := readCard(r, fuzzNow)
		// The form shown again holds what was typed into the other fields.
		if form.ExpMonth != month || form.ExpYear != year || form.Name != strings.TrimSpace(name) {
			t.Fatalf("the form shown again is not what was typed: %+v", form)
		}
		if !ok {
			if card != (gateways.CardDetails{}) {
				t.Fatalf("refused details still returned: %+v", card)
			}
			if len(form.Errors) == 0 {
				t.Fatal("refused without a message")
			}
			noEcho(t, form.Errors, typedDigits(number, 4), typedDigits(cvv, 3))
			return
		}
		if len(form.Errors) != 0 {
			t.Fatalf("accepted with messages %v", form.Errors)
		}
		n := card.Number
		if len(n) < 12 || len(n) > 19 || strings.Trim(n, "0123456789") != "" || !gateways.Luhn(n) {
			t.Fatalf("accepted card number of %d characters that is not a valid card number", len(n))
		}
		if card.ExpMonth < 1 || card.ExpMonth > 12 || card.ExpYear*12+card.ExpMonth < fuzzNow.Year()*12+int(fuzzNow.Month()) {
			t.Fatalf("accepted expiry %d/%d", card.ExpMonth, card.ExpYear)
		}
		if l := len(card.CVV); l < 3 || l > 4 || strings.Trim(card.CVV, "0123456789") != "" {
			t.Fatalf("accepted a CVV of %d characters", l)
		}
		if card.Holder == "" || utf8.RuneCountInString(card.Holder) > 64 || card.Holder != strings.TrimSpace(name) || !cleanName(card.Holder) {
			t.Fatalf("accepted holder %q", card.Holder)
		}
	})
}

func FuzzBankForm(f *testing.F) {
	f.Add(false, "062-000", "12345678", "John Smith", "", true)
	f.Add(true, "021000021", "9876543210", "John Smith", "CHECKING", true)
	f.Add(true, "021000022", "9876543210", "John Smith", "SAVINGS", true)
	f.Add(true, "121000358", "123", "", "BROKERAGE", false)
	f.Add(false, "06200", "1234567890", strings.Repeat("x", 33), "", true)
	f.Add(true, "0210000２1", "12345678901234567890", "Zoë <b>&", "checking", true)
	f.Add(false, "062000", "12345678", "John\nSmith", "", true)
	f.Fuzz(func(t *testing.T, us bool, branch, account, name, accountType string, accept bool) {
		k, branchField := config.IntegraPay, "bsb"
		if us {
			k, branchField = config.IPpay, "routing"
		}
		v := url.Values{branchField: {branch}, "account_number": {account}, "account_name": {name}, "account_type": {accountType}}
		if accept {
			v.Set("accept", "1")
		}
		bank, form, ok := readBank(formRequest(v), k)
		if form.Name != strings.TrimSpace(name) || form.Accepted != accept {
			t.Fatalf("the form shown again is not what was typed: %+v", form)
		}
		if !ok {
			if bank != (gateways.BankDetails{}) {
				t.Fatalf("refused details still returned")
			}
			if len(form.Errors) == 0 {
				t.Fatal("refused without a message")
			}
			noEcho(t, form.Errors, typedDigits(account, 4), typedDigits(branch, 6))
			return
		}
		if !accept {
			t.Fatal("accepted without the agreement")
		}
		digits := func(s string, lo, hi int) bool {
			return len(s) >= lo && len(s) <= hi && strings.Trim(s, "0123456789") == ""
		}
		maxName := 32
		if us {
			maxName = 64
			if !digits(bank.Branch, 9, 9) || !gateways.ValidABA(bank.Branch) {
				t.Fatal("accepted a routing number whose ABA checksum fails")
			}
			if !digits(bank.AccountNumber, 4, 17) {
				t.Fatalf("accepted a US account number of %d characters", len(bank.AccountNumber))
			}
			if bank.AccountType != "CHECKING" && bank.AccountType != "SAVINGS" {
				t.Fatalf("accepted account type %q", bank.AccountType)
			}
		} else {
			if !digits(bank.Branch, 6, 6) {
				t.Fatalf("accepted a BSB of %d characters", len(bank.Branch))
			}
			if !digits(bank.AccountNumber, 5, 9) {
				t.Fatalf("accepted an AU account number of %d characters", len(bank.AccountNumber))
			}
		}
		if bank.AccountName == "" || utf8.RuneCountInString(bank.AccountName) > maxName || !cleanName(bank.AccountName) {
			t.Fatalf("accepted account name %q", bank.AccountName)
		}
	})
}

func FuzzAmount(f *testing.F) {
	for _, s := range []string{"25.00", "5", "1000.00", "1e3", "-5", "12.345", "", " 7.5 ", "999999999.99", "9999999999", "0.00",
		"1,000.00", "+5", ".50", "5.", "٥", "0x10", "NaN", "Inf"} {
		f.Add(s, int64(500), int64(100000))
	}
	f.Add("3.00", int64(0), int64(0))
	f.Add("92233720368547758.07", int64(1), int64(1<<62))
	f.Fuzz(func(t *testing.T, s string, minC, maxC int64) {
		// The refill page never passes a minimum below a cent (refillData).
		minC = max(minC, 1)
		minA, maxA := money.Amount(minC), money.Amount(maxC)
		cents, msg := parseAmount(s, minA, maxA)
		if msg != "" {
			if cents != 0 {
				t.Fatalf("refused %q with %q but returned %d cents", s, msg, cents)
			}
			switch msg {
			case "Enter an amount.", "Enter an amount in dollars and cents, e.g. 25.00.",
				"The smallest amount is " + minA.String() + ".", "The largest amount is " + maxA.String() + ".":
			default:
				t.Fatalf("refused %q with an unexpected message %q", s, msg)
			}
			return
		}
		if cents < minC || cents > maxC || cents <= 0 || cents > 99999999999 {
			t.Fatalf("accepted %q as %d cents outside [%d, %d]", s, cents, minC, maxC)
		}
		// The cents are exactly the decimal typed.
		whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
		for len(frac) < 2 {
			frac += "0"
		}
		w, err1 := strconv.ParseInt(whole, 10, 64)
		c, err2 := strconv.ParseInt(frac, 10, 64)
		if err1 != nil || err2 != nil || len(frac) != 2 || w*100+c != cents || strings.ContainsAny(s, "+-eE") {
			t.Fatalf("accepted %q as %d cents", s, cents)
		}
	})
}

// FuzzMaskName: the name a direct link shows keeps the first character of
// each word and hides every other letter and digit.
func FuzzMaskName(f *testing.F) {
	for _, s := range []string{"John Smith", "J", "", "  Ann   Lee  ", "Zoë O'Brien-Smith", "李小龍", "4111 1111 1111 1111", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := maskName(name)
		words, masked := strings.Fields(name), strings.Fields(got)
		if len(words) != len(masked) {
			t.Fatalf("maskName(%q) = %q: %d words became %d", name, got, len(words), len(masked))
		}
		for i, w := range words {
			in, out := []rune(w), []rune(masked[i])
			if len(in) != len(out) || in[0] != out[0] {
				t.Fatalf("maskName(%q) = %q", name, got)
			}
			for j := 1; j < len(out); j++ {
				if unicode.IsLetter(out[j]) || unicode.IsDigit(out[j]) {
					t.Fatalf("maskName(%q) = %q shows %q", name, got, out[j])
				}
			}
		}
	})
}
