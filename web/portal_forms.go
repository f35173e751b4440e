package web

// Reading and checking what a customer types into the payment forms. Card
// and bank numbers are read into gateways.CardDetails / BankDetails for one
// call to the gateway and are never put back into a page, a log line or an
// error message; everything else the visitor typed is kept for the form.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// cardForm is the card form as shown again after a mistake: never the
// number or the CVV.
type cardForm struct {
	Name     string
	ExpMonth string
	ExpYear  string
	Errors   map[string]string
}

// bankForm is the bank form as shown again: never the BSB, routing or
// account number.
type bankForm struct {
	Name        string
	AccountType string
	Accepted    bool
	Errors      map[string]string
}

func digitsOf(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// readCard checks the card fields of r.
func readCard(r *http.Request, now time.Time) (gateways.CardDetails, cardForm, bool) {
	f := cardForm{Name: strings.TrimSpace(r.PostFormValue("card_name")), ExpMonth: r.PostFormValue("exp_month"),
		ExpYear: r.PostFormValue("exp_year"), Errors: map[string]string{}}
	num := digitsOf(r.PostFormValue("card_number"))
	cvv := strings.TrimSpace(r.PostFormValue("cvv"))
	switch {
	case num == "":
		f.Errors["card_number"] = "Enter the card number."
	case !allDigits(num) || len(num) < 12 || len(num) > 19 || !gateways.Luhn(num):
		f.Errors["card_number"] = "This card number is not valid. Check the digits."
	}
	m, errM := strconv.Atoi(f.ExpMonth)
	y, errY := strconv.Atoi(f.ExpYear)
	switch {
	case errM != nil || errY != nil || m < 1 || m > 12 || y < 2000 || y > 2100:
		f.Errors["expiry"] = "Choose the expiry month and year."
	case y < now.Year() || (y == now.Year() && m < int(now.Month())):
		f.Errors["expiry"] = "This card has expired."
	}
	switch {
	case cvv == "":
		f.Errors["cvv"] = "Enter the 3 or 4 digit security code from the back of the card."
	case !allDigits(cvv) || len(cvv) < 3 || len(cvv) > 4:
		f.Errors["cvv"] = "The security code is 3 or 4 digits."
	}
	switch {
	case f.Name == "":
		f.Errors["card_name"] = "Enter the name on the card."
	case utf8.RuneCountInString(f.Name) > 64:
		f.Errors["card_name"] = "The name is too long (64 characters at most)."
	}
	if len(f.Errors) > 0 {
		return gateways.CardDetails{}, f, false
	}
	return gateways.CardDetails{Number: num, ExpMonth: m, ExpYear: y, CVV: cvv, Holder: f.Name}, f, true
}

// agreement is a debit authorisation the customer accepts.
type agreement struct {
	Title   string
	Text    string
	Version string // recorded on the saved method with the time and IP
}

func newAgreement(title, id, text string) agreement {
	h := sha256.Sum256([]byte(text))
	return agreement{Title: title, Text: text, Version: fmt.Sprintf("%s sha256:%s", id, hex.EncodeToString(h[:6]))}
}

// The texts are versioned by id and by their hash: a change of a single
// character gives a new version on the next saved method.
var (
	ddrAgreement = newAgreement("Direct Debit Request service agreement", "integrapay-ddr-2026-11", `Direct Debit Request service agreement

This agreement sets out the terms on which your service provider ("we", "us") debits your bank account under the Direct Debit Request you give on this page, through our payment processor IntegraPay (Payrix Australia), which acts for us in the Bulk Electronic Clearing System (BECS).

1. Debit arrangement. You authorise us to debit the account you name on this page for amounts you owe us for your services: invoices when they fall due, amounts you choose to pay on these pages, and any dishonour fee set out in your service terms. We will only debit amounts that are due under your agreement with us.

2. Notice. We will give you at least 14 days' written notice before we change the terms of this arrangement. The amount and date of each debit are shown on your invoice, which we send before the debit date.

3. Debit dates. If a debit falls on a day that is not a banking business day, it will be made on the next business day. If you are unsure when a debit will be processed, ask your financial institution.

4. Your rights. You may stop an individual debit, defer it, change this arrangement or cancel it by contacting us at least 3 business days before the debit date, or by removing the bank account on this page. You may also contact your financial institution directly.

5. Disputes. If you believe a debit was wrong, contact us first; we will answer within 7 business days. If we agree the debit was wrong we will refund it. You can also raise a claim through your financial institution.

6. Your responsibilities. You must make sure there are enough cleared funds in the account on the debit date, that the account can accept direct debits (not all accounts can; check with your financial institution), and that the details you give are correct. If a debit is returned unpaid, your financial institution and we may charge a fee.

7. Privacy. Your account details are passed only to our payment processor and your financial institution to process debits and disputes. We keep a token and the last digits, not your full account number.

8. Account holder. You confirm that you are the account holder, or are authorised to operate the account alone.`)

	achAgreement = newAgreement("ACH debit authorization", "ippay-ach-2026-11", `ACH debit authorization

By accepting below, you authorize your service provider ("we", "us") and our payment processor IPpay to initiate electronic debit entries (ACH debits) from the checking or savings account you enter on this page, and, if necessary, credit entries to correct an erroneous debit.

1. What we debit. Amounts you owe us for your services: invoices when they fall due, and payments you make on these pages. Each debit is for the amount shown on your invoice or the amount you confirm on the payment page.

2. When. Debits are sent on or after the due date shown on your invoice, or on the day you make a payment here. A debit takes 2 to 5 business days to settle.

3. Returned debits. If a debit is returned (for example for insufficient funds), we may try again as the NACHA rules allow and may charge the returned-payment fee set out in your service terms.

4. Revoking. This authorization stays in force until you revoke it. You may revoke it at any time by removing the bank account on this page or by contacting us, in time for us to act on it before the next debit (at least 3 business days).

5. Your account. You confirm that you are an authorized signer on the account and that the account information you give is correct. The ACH transactions must comply with U.S. law.

6. Privacy. Your routing and account numbers are sent only to our payment processor; we keep a token and the last digits.`)
)

// readBank checks the bank account fields of r for the add-on k.
func readBank(r *http.Request, k config.Addon) (gateways.BankDetails, bankForm, bool) {
	f := bankForm{Name: strings.TrimSpace(r.PostFormValue("account_name")), AccountType: r.PostFormValue("account_type"),
		Accepted: r.PostFormValue("accept") == "1", Errors: map[string]string{}}
	acct := digitsOf(r.PostFormValue("account_number"))
	b := gateways.BankDetails{AccountNumber: acct, AccountName: f.Name}
	if k == config.IPpay {
		aba := digitsOf(r.PostFormValue("routing"))
		switch {
		case aba == "":
			f.Errors["routing"] = "Enter the 9-digit routing number."
		case !allDigits(aba) || len(aba) != 9:
			f.Errors["routing"] = "The routing number has 9 digits."
		case !gateways.ValidABA(aba):
			f.Errors["routing"] = "This is not a valid routing number. Check the digits."
		}
		switch {
		case acct == "":
			f.Errors["account_number"] = "Enter the account number."
		case !allDigits(acct) || len(acct) < 4 || len(acct) > 17:
			f.Errors["account_number"] = "The account number has 4 to 17 digits."
		}
		switch f.AccountType {
		case "CHECKING", "SAVINGS":
		default:
			f.Errors["account_type"] = "Choose checking or savings."
		}
		b.Branch, b.AccountType = aba, f.AccountType
	} else {
		bsb := digitsOf(r.PostFormValue("bsb"))
		switch {
		case bsb == "":
			f.Errors["bsb"] = "Enter the 6-digit BSB."
		case !allDigits(bsb) || len(bsb) != 6:
			f.Errors["bsb"] = "The BSB has 6 digits, e.g. 062-000."
		}
		switch {
		case acct == "":
			f.Errors["account_number"] = "Enter the account number."
		case !allDigits(acct) || len(acct) < 5 || len(acct) > 9:
			f.Errors["account_number"] = "The account number has 5 to 9 digits."
		}
		b.Branch = bsb
		f.AccountType = ""
	}
	maxName := 32
	if k == config.IPpay {
		maxName = 64
	}
	switch {
	case f.Name == "":
		f.Errors["account_name"] = "Enter the name of the account holder."
	case utf8.RuneCountInString(f.Name) > maxName:
		f.Errors["account_name"] = fmt.Sprintf("The account name is too long (%d characters at most).", maxName)
	}
	if !f.Accepted {
		f.Errors["accept"] = "Read the agreement and tick the box to accept it."
	}
	if len(f.Errors) > 0 {
		return gateways.BankDetails{}, f, false
	}
	return b, f, true
}

func agreementFor(k config.Addon) agreement {
	if k == config.IPpay {
		return achAgreement
	}
	return ddrAgreement
}

// bankOffered reports whether the add-on takes bank accounts as configured.
func bankOffered(k config.Addon, set config.Settings) bool {
	return k != config.IPpay || set.IPpayACHTerminalID != ""
}

// payer builds the gateway payer of a customer, from the mirror or, for a
// customer not mirrored yet, from Splynx.
func (p *portal) payer(ctx context.Context, b *backend, customerID int64) (gateways.Payer, error) {
	country := "AU"
	if p.kind(b.set) == config.IPpay {
		country = "US"
	}
	c, err := b.db.GetCustomer(ctx, customerID)
	if errors.Is(err, store.ErrNotFound) {
		sc, serr := b.sp.GetCustomer(ctx, customerID)
		if serr != nil {
			return gateways.Payer{}, fmt.Errorf("customer %d: %w", customerID, serr)
		}
		c = store.Customer{ID: customerID, Login: sc.Login, Name: sc.Name, Email: sc.Email, BillingEmail: sc.BillingEmail,
			Phone: sc.Phone, Street1: sc.Street1, Street2: sc.Street2, City: sc.City, ZipCode: sc.ZipCode}
	} else if err != nil {
		return gateways.Payer{}, err
	}
	ref := fmt.Sprintf("%d", customerID)
	if b.set.CustomerIdentifier == "login" && c.Login != "" {
		ref = c.Login
	}
	return charge.PayerFromCustomer(c, ref, country), nil
}

// saveErrText is what the customer reads when the gateway refused details.
func saveErrText(err error, bank bool) string {
	switch {
	case errors.Is(err, gateways.ErrInvalidDetails) && bank:
		return "The payment provider did not accept these bank details. Check them and try again."
	case errors.Is(err, gateways.ErrInvalidDetails):
		return "The card was not accepted. Check the details or use another card."
	}
	return "We could not reach the payment provider, so nothing was saved. Please try again in a few minutes."
}

// saveNew saves the card or bank account of the form for the visitor. On
// failure it returns a message for the customer and the form to show again.
func (p *portal) saveNew(ctx context.Context, r *http.Request, b *backend, customerID int64, method string) (store.SavedMethodRow, cardForm, bankForm, string) {
	k := p.kind(b.set)
	req := gateways.SaveMethodRequest{}
	var cf cardForm
	var bf bankForm
	authText := ""
	if p.hostedMode(b) {
		// card_entry = hosted: numbers are typed on the gateway's page only;
		// a form posted here anyway (an old page, a crafted request) is not read.
		return store.SavedMethodRow{}, cf, bf, "Card and bank details are entered on " + b.gatewayName() + "'s secure page. Please use the button on this page."
	}
	switch method {
	case "card":
		card, f, ok := readCard(r, p.now())
		cf = f
		if !ok {
			return store.SavedMethodRow{}, cf, bf, "Please correct the card details below."
		}
		req.Card = &card
	case "bank":
		if !bankOffered(k, b.set) {
			return store.SavedMethodRow{}, cf, bf, "Bank account payments are not offered."
		}
		bank, f, ok := readBank(r, k)
		bf = f
		if !ok {
			return store.SavedMethodRow{}, cf, bf, "Please correct the bank account details below."
		}
		req.Bank = &bank
		ag := agreementFor(k)
		authText = ag.Version
		req.Authorisation = gateways.Authorisation{AcceptedAt: p.now(), IP: clientIP(r)}
		if k == config.IPpay {
			req.Authorisation.SEC = b.set.IPpayACHSEC
			if req.Authorisation.SEC == "" {
				req.Authorisation.SEC = "WEB"
			}
		}
	default:
		return store.SavedMethodRow{}, cf, bf, "Choose a card or a bank account."
	}
	payer, err := p.payer(ctx, b, customerID)
	if err != nil {
		p.s.Logger().Warn("portal: payer details", zap.Int64("customer_id", customerID), zap.Error(err))
		return store.SavedMethodRow{}, cf, bf, "We could not read your customer details. Please try again later."
	}
	req.Payer = payer
	m, err := b.en.SaveMethod(ctx, req, authText)
	if err != nil {
		p.s.Logger().Warn("portal: save payment method", zap.Int64("customer_id", customerID), zap.Error(err))
		return store.SavedMethodRow{}, cf, bf, saveErrText(err, method == "bank")
	}
	p.showInSplynx(ctx, b, m)
	p.s.Logger().Info("portal: payment method saved", zap.Int64("customer_id", customerID), zap.Int64("method_id", m.ID),
		zap.String("mask", m.Mask), zap.String("authorisation", authText))
	return m, cf, bf, ""
}

// amountRE is what a customer may type as an amount: digits with at most
// two decimals (no sign, no exponent, no thousands separators).
var amountRE = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,2})?$`)

// parseAmount reads a customer-typed amount into cents, or says why not.
func parseAmount(s string, minA, maxA money.Amount) (int64, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "Enter an amount."
	}
	if !amountRE.MatchString(s) {
		return 0, "Enter an amount in dollars and cents, e.g. 25.00."
	}
	a, err := money.Parse(s)
	if err != nil {
		return 0, "Enter an amount in dollars and cents, e.g. 25.00."
	}
	if a < minA {
		return 0, "The smallest amount is " + minA.String() + "."
	}
	if a > maxA {
		return 0, "The largest amount is " + maxA.String() + "."
	}
	return int64(a), ""
}

// showInSplynx copies a saved (or removed) method into the customer's
// Splynx payment account, for staff; a failure is logged, not shown.
func (p *portal) showInSplynx(ctx context.Context, b *backend, m store.SavedMethodRow) {
	if err := b.en.ShowMethodInSplynx(context.WithoutCancel(ctx), m); err != nil {
		p.s.Logger().Warn("portal: payment account in Splynx not updated", zap.Int64("customer_id", m.CustomerID),
			zap.Int64("method_id", m.ID), zap.Error(err))
	}
}
