package ippay

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
)

// SaveMethod tokenizes a card (CardNum + expiry) or a bank account (top-level
// ABA + AccountNumber). The numbers are checked here first (Luhn, the ABA
// checksum) because IPpay's own answers to bad numbers are hard for a
// customer to read; they then go to IPpay once and only the token and a mask
// are returned.
func (c *Client) SaveMethod(ctx context.Context, req gateways.SaveMethodRequest) (gateways.SavedMethod, error) {
	switch {
	case req.Card != nil && req.Bank != nil:
		return gateways.SavedMethod{}, fmt.Errorf("ippay: save method: both card and bank given: %w", gateways.ErrInvalidDetails)
	case req.Card != nil:
		return c.saveCard(ctx, req.Payer, *req.Card)
	case req.Bank != nil:
		return c.saveBank(ctx, req.Payer, *req.Bank)
	}
	return gateways.SavedMethod{}, fmt.Errorf("ippay: save method: no card or bank account given: %w", gateways.ErrInvalidDetails)
}

func (c *Client) saveCard(ctx context.Context, p gateways.Payer, card gateways.CardDetails) (gateways.SavedMethod, error) {
	pan := strings.NewReplacer(" ", "", "-", "").Replace(card.Number)
	if !gateways.Luhn(pan) {
		return gateways.SavedMethod{}, fmt.Errorf("ippay: card %s is not a valid card number: %w", gateways.MaskPAN(pan), gateways.ErrInvalidDetails)
	}
	year := card.ExpYear
	if year > 0 && year < 100 {
		year += 2000
	}
	if card.ExpMonth < 1 || card.ExpMonth > 12 || year < 2000 || year > 2099 {
		return gateways.SavedMethod{}, fmt.Errorf("ippay: card %s: expiry %02d/%d is not a month and year: %w", gateways.MaskPAN(pan), card.ExpMonth, card.ExpYear, gateways.ErrInvalidDetails)
	}
	now := c.clock.Now()
	if year < now.Year() || (year == now.Year() && card.ExpMonth < int(now.Month())) {
		return gateways.SavedMethod{}, fmt.Errorf("ippay: card %s expired %02d/%d: %w", gateways.MaskPAN(pan), card.ExpMonth, year, gateways.ErrInvalidDetails)
	}
	tid, err := c.terminal(gateways.Card)
	if err != nil {
		return gateways.SavedMethod{}, err
	}
	r := &request{
		TransactionType: "TOKENIZE",
		TerminalID:      tid,
		CardNum:         &cardNum{Number: pan},
		CardExpMonth:    fmt.Sprintf("%02d", card.ExpMonth),
		CardExpYear:     fmt.Sprintf("%02d", year%100),
	}
	token, err := c.tokenize(ctx, r, "card "+gateways.MaskPAN(pan))
	if err != nil {
		return gateways.SavedMethod{}, err
	}
	brand := gateways.CardBrand(pan)
	m := gateways.SavedMethod{Kind: gateways.Card, Token: token, Mask: gateways.CardMask(brand, pan),
		Brand: brand, HolderName: strings.TrimSpace(card.Holder), ExpMonth: card.ExpMonth, ExpYear: year}
	c.log.Info("ippay card saved", zap.String("payer", p.Reference), zap.String("mask", m.Mask))
	return m, nil
}

func (c *Client) saveBank(ctx context.Context, p gateways.Payer, b gateways.BankDetails) (gateways.SavedMethod, error) {
	aba := strings.TrimSpace(b.Branch)
	acct := strings.NewReplacer(" ", "", "-", "").Replace(b.AccountNumber)
	if !ValidABA(aba) {
		return gateways.SavedMethod{}, fmt.Errorf("ippay: routing number is not a valid 9-digit ABA number: %w", gateways.ErrInvalidDetails)
	}
	if len(acct) < 4 || len(acct) > 17 || strings.Trim(acct, "0123456789") != "" {
		return gateways.SavedMethod{}, fmt.Errorf("ippay: account number must be 4 to 17 digits: %w", gateways.ErrInvalidDetails)
	}
	typ := strings.ToUpper(strings.TrimSpace(b.AccountType))
	switch typ {
	case "", "CHECKING", "CHEQUE":
		typ = "CHECKING"
	case "SAVINGS":
	default:
		return gateways.SavedMethod{}, fmt.Errorf("ippay: account type %q is not CHECKING or SAVINGS: %w", b.AccountType, gateways.ErrInvalidDetails)
	}
	holder := strings.TrimSpace(b.AccountName)
	if holder == "" {
		holder = strings.TrimSpace(p.GivenName + " " + p.FamilyName)
	}
	tid, err := c.terminal(gateways.Bank)
	if err != nil {
		return gateways.SavedMethod{}, err
	}
	r := &request{TransactionType: "TOKENIZE", TerminalID: tid, ABA: aba, AccountNumber: acct}
	token, err := c.tokenize(ctx, r, "bank account "+gateways.MaskAccount(acct))
	if err != nil {
		return gateways.SavedMethod{}, err
	}
	m := gateways.SavedMethod{Kind: gateways.Bank, Token: token, Mask: typ + " " + gateways.MaskAccount(acct),
		AccountType: typ, HolderName: holder}
	c.log.Info("ippay bank account saved", zap.String("payer", p.Reference), zap.String("mask", m.Mask))
	return m, nil
}

// tokenize sends TOKENIZE and returns the token. Failures the customer can
// fix (bad number, expired card, bad routing number) wrap
// ErrInvalidDetails; a refused terminal wraps ErrUnauthorized.
func (c *Client) tokenize(ctx context.Context, r *request, what string) (string, error) {
	resp, err := c.post(ctx, r)
	if err != nil {
		// Sent or not, the caller asks again: a token IPpay may have issued
		// for this attempt is simply never used.
		return "", fmt.Errorf("ippay: save %s: %w", what, err)
	}
	if !resp.ok() {
		err := fmt.Errorf("ippay: save %s: %s %s", what, resp.ActionCode, resp.text())
		switch reason, _ := declineReason(resp.ActionCode); {
		case terminalRejected(resp.ActionCode):
			return "", fmt.Errorf("%w: %w", err, gateways.ErrUnauthorized)
		case reason == gateways.ReasonInvalidCard, reason == gateways.ReasonExpiredCard,
			reason == gateways.ReasonInvalidAccount, reason == gateways.ReasonLostOrStolen:
			return "", fmt.Errorf("%w: %w", err, gateways.ErrInvalidDetails)
		}
		return "", err
	}
	if resp.Token == "" {
		return "", fmt.Errorf("ippay: save %s: approved without a token: %w", what, ErrMalformed)
	}
	return resp.Token, nil
}

// RemoveMethod sends nothing: the XML API has no call that deletes a token.
// The caller forgets the token, which is what stops it being charged.
func (c *Client) RemoveMethod(ctx context.Context, payerRef string, m gateways.SavedMethod) error {
	c.log.Info("ippay method forgotten (IPpay has no token deletion)", zap.String("payer", payerRef), zap.String("mask", m.Mask))
	return nil
}

// ValidABA reports whether s is a 9-digit ABA routing number with a
// correct check digit (gateways.ValidABA, where pages can use it without
// linking this client).
func ValidABA(s string) bool { return gateways.ValidABA(s) }
