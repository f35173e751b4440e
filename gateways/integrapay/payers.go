package integrapay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/redact"
)

// PayerInfo is what IntegraPay says of a payer (gateways.PayerInfo, so
// pages can show it without linking this client).
type PayerInfo = gateways.PayerInfo

// addressBody and payerBody carry every field the add-on keeps, empty ones
// included: whether PUT payers/{ref} merges or replaces omitted fields is
// unknown (spec §5.3), so an update never leaves a field out. An unknown
// country goes as null, as in the spec's example.
type addressBody struct {
	Line1    string
	Line2    string
	Suburb   string
	State    string
	PostCode string
	Country  *string
}

type payerBody struct {
	UniqueReference      string
	FamilyOrBusinessName string
	GivenName            string
	Email                string
	Phone                string
	Address              addressBody
	Audit                audit
}

type payerResponse struct {
	PayerID              text `json:"payerId"`
	UniqueReference      text `json:"uniqueReference"`
	Status               text `json:"status"`
	StatusCode           text `json:"statusCode"`
	FamilyOrBusinessName text `json:"familyOrBusinessName"`
	GivenName            text `json:"givenName"`
	Email                text `json:"email"`
	Phone                text `json:"phone"`
	Address              struct {
		Line1    text `json:"line1"`
		Line2    text `json:"line2"`
		Suburb   text `json:"suburb"`
		State    text `json:"state"`
		PostCode text `json:"postCode"`
		Country  text `json:"country"`
	} `json:"address"`
}

func (c *Client) payerPath(ref string, rest ...string) string {
	p := "payers/" + url.PathEscape(ref)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func (c *Client) audit(operator, ip string) audit {
	if operator == "" {
		operator = c.cfg.Operator
	}
	return audit{Username: operator, UserIP: ip}
}

func (c *Client) payerBody(p gateways.Payer) payerBody {
	family := strings.TrimSpace(p.FamilyName)
	given := strings.TrimSpace(p.GivenName)
	if family == "" {
		// The API requires a family or business name; a one-word customer
		// name goes there rather than being refused.
		family, given = given, ""
	}
	var country *string
	if c := strings.TrimSpace(p.Country); c != "" {
		country = &c
	}
	return payerBody{
		UniqueReference:      p.Reference,
		FamilyOrBusinessName: family,
		GivenName:            given,
		Email:                strings.TrimSpace(p.Email),
		Phone:                strings.TrimSpace(p.Phone),
		Address: addressBody{
			Line1:    strings.TrimSpace(p.Street),
			Suburb:   strings.TrimSpace(p.City),
			State:    strings.TrimSpace(p.State),
			PostCode: strings.TrimSpace(p.PostCode),
			Country:  country,
		},
		Audit: c.audit("", ""),
	}
}

// GetPayer returns the payer with UniqueReference ref; the error matches
// gateways.ErrNotFound when there is none.
func (c *Client) GetPayer(ctx context.Context, ref string) (PayerInfo, error) {
	if ref == "" {
		return PayerInfo{}, fmt.Errorf("integrapay: get payer: %w: empty reference", gateways.ErrInvalidDetails)
	}
	var pr payerResponse
	err := c.do(ctx, call{op: "get payer", method: http.MethodGet, path: c.payerPath(ref), idempotent: true}, &pr)
	if err != nil {
		return PayerInfo{}, err
	}
	if pr.UniqueReference == "" && pr.PayerID == "" {
		// An empty object is how some deployments say "no such payer".
		return PayerInfo{}, fmt.Errorf("integrapay: get payer %s: %w", ref, gateways.ErrNotFound)
	}
	return PayerInfo{
		Payer: gateways.Payer{
			Reference:  string(pr.UniqueReference),
			GivenName:  string(pr.GivenName),
			FamilyName: string(pr.FamilyOrBusinessName),
			Email:      string(pr.Email),
			Phone:      string(pr.Phone),
			Street:     string(pr.Address.Line1),
			City:       string(pr.Address.Suburb),
			State:      string(pr.Address.State),
			PostCode:   string(pr.Address.PostCode),
			Country:    string(pr.Address.Country),
		},
		PayerID:    string(pr.PayerID),
		StatusCode: string(pr.StatusCode),
		Status:     string(pr.Status),
	}, nil
}

// UpsertPayer creates the payer, or updates it when its name, email, phone
// or address differ from what IntegraPay holds. An unchanged payer costs one
// GET and nothing else.
func (c *Client) UpsertPayer(ctx context.Context, p gateways.Payer) error {
	_, err := c.upsertPayer(ctx, p)
	return err
}

func (c *Client) upsertPayer(ctx context.Context, p gateways.Payer) (PayerInfo, error) {
	if strings.TrimSpace(p.Reference) == "" {
		return PayerInfo{}, fmt.Errorf("integrapay: upsert payer: %w: empty reference", gateways.ErrInvalidDetails)
	}
	if strings.TrimSpace(p.FamilyName) == "" && strings.TrimSpace(p.GivenName) == "" {
		return PayerInfo{}, fmt.Errorf("integrapay: upsert payer %s: %w: no name", p.Reference, gateways.ErrInvalidDetails)
	}
	body := c.payerBody(p)
	cur, err := c.GetPayer(ctx, p.Reference)
	switch {
	case errors.Is(err, gateways.ErrNotFound):
		if err := c.do(ctx, call{op: "create payer", method: http.MethodPost, path: "payers", body: body}, nil); err != nil {
			return PayerInfo{}, err
		}
		c.log.Info("payer created", zap.String("payer_ref", p.Reference))
		return PayerInfo{Payer: p, StatusCode: "A", Status: "ACTIVE"}, nil
	case err != nil:
		return PayerInfo{}, err
	}
	if samePayer(c.payerBody(cur.Payer), body) {
		return cur, nil
	}
	if err := c.do(ctx, call{op: "update payer", method: http.MethodPut, path: c.payerPath(p.Reference), body: body}, nil); err != nil {
		return PayerInfo{}, err
	}
	c.log.Info("payer updated", zap.String("payer_ref", p.Reference))
	cur.Payer = p
	return cur, nil
}

func samePayer(a, b payerBody) bool {
	a.Audit, b.Audit = audit{}, audit{}
	eq := strings.EqualFold
	return a.FamilyOrBusinessName == b.FamilyOrBusinessName && a.GivenName == b.GivenName &&
		eq(a.Email, b.Email) && a.Phone == b.Phone &&
		a.Address.Line1 == b.Address.Line1 && a.Address.Suburb == b.Address.Suburb &&
		a.Address.State == b.Address.State && a.Address.PostCode == b.Address.PostCode &&
		(b.Address.Country == nil || eq(deref(a.Address.Country), *b.Address.Country))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// SetPayerStatus changes the payer's status: "A" active, "C" cancelled,
// "S" suspended, or any of the sub-codes (§11 of the spec).
func (c *Client) SetPayerStatus(ctx context.Context, ref, status string) error {
	if ref == "" || status == "" {
		return fmt.Errorf("integrapay: set payer status: %w: empty reference or status", gateways.ErrInvalidDetails)
	}
	body := struct {
		NewStatus string
		Audit     audit
	}{status, c.audit("", "")}
	if err := c.do(ctx, call{op: "set payer status", method: http.MethodPut, path: c.payerPath(ref, "status"), body: body}, nil); err != nil {
		return err
	}
	c.log.Info("payer status changed", zap.String("payer_ref", ref), zap.String("status", status))
	return nil
}

// SaveMethod attaches a bank account or a card to the payer (creating or
// updating the payer first) and makes it the payer's one active method.
// Details are checked before anything is sent; the card goes through the
// tokenize-card service so only the token is attached to the payer.
func (c *Client) SaveMethod(ctx context.Context, req gateways.SaveMethodRequest) (gateways.SavedMethod, error) {
	ref := req.Payer.Reference
	if req.HostedToken != "" && req.Card == nil && req.Bank == nil {
		return c.saveHosted(ctx, req)
	}
	if (req.Card == nil) == (req.Bank == nil) {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method for %s: %w: exactly one of card and bank account", ref, gateways.ErrInvalidDetails)
	}
	var saved gateways.SavedMethod
	var err error
	if req.Bank != nil {
		saved, err = checkBank(*req.Bank)
	} else {
		saved, err = checkCard(*req.Card, c.clk.Now().In(c.loc))
	}
	if err != nil {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method for %s: %w", ref, err)
	}
	info, err := c.upsertPayer(ctx, req.Payer)
	if err != nil {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method: %w", err)
	}
	au := c.audit("", req.Authorisation.IP)
	if req.Bank != nil {
		b := *req.Bank
		body := struct {
			AccountBranch string
			AccountNumber string
			AccountName   string
			AccountType   string
			Audit         audit
		}{redact.Digits(b.Branch), redact.Digits(b.AccountNumber), strings.TrimSpace(b.AccountName), saved.AccountType, au}
		if err := c.do(ctx, call{op: "save bank account", method: http.MethodPut, path: c.payerPath(ref, "accounts", "bank-account"), body: body,
			secrets: []string{body.AccountBranch, body.AccountNumber}}, nil); err != nil {
			return gateways.SavedMethod{}, err
		}
	} else {
		cd := *req.Card
		holder := strings.TrimSpace(cd.Holder)
		if holder == "" {
			holder = strings.TrimSpace(req.Payer.GivenName + " " + req.Payer.FamilyName)
		}
		type cardBody struct {
			CardNumber     string
			CardholderName string
			ExpiryYear     int
			ExpiryMonth    int
			Ccv            *string
		}
		var ccv *string
		if v := strings.TrimSpace(cd.CVV); v != "" {
			ccv = &v
		}
		tokReq := struct{ Card cardBody }{cardBody{redact.Digits(cd.Number), holder, cd.ExpYear, cd.ExpMonth, ccv}}
		var tokResp struct {
			Token text `json:"token"`
		}
		if err := c.do(ctx, call{op: "tokenize card", method: http.MethodPost, path: "services/tokenize-card", body: tokReq,
			secrets: []string{tokReq.Card.CardNumber, strings.TrimSpace(cd.CVV)}}, &tokResp); err != nil {
			return gateways.SavedMethod{}, err
		}
		if tokResp.Token == "" {
			return gateways.SavedMethod{}, fmt.Errorf("integrapay: tokenize card for %s: %w: no token", ref, ErrMalformed)
		}
		attach := struct {
			CardToken string
			Audit     audit
		}{string(tokResp.Token), au}
		if err := c.do(ctx, call{op: "attach card", method: http.MethodPost, path: c.payerPath(ref, "accounts", "card", "token"), body: attach}, nil); err != nil {
			return gateways.SavedMethod{}, err
		}
	}
	if !info.Active() && info.StatusCode != "" {
		// A payer cancelled by an earlier RemoveMethod or suspended after
		// rejections is not debited; new details reactivate it.
		if err := c.SetPayerStatus(ctx, ref, "A"); err != nil {
			return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method: reactivate payer: %w", err)
		}
	}
	saved.Token = ref
	c.log.Info("payment method saved", zap.String("payer_ref", ref), zap.String("kind", string(saved.Kind)))
	return saved, nil
}

// checkBank validates AU bank details and returns the method's mask.
func checkBank(b gateways.BankDetails) (gateways.SavedMethod, error) {
	bsb := redact.Digits(b.Branch)
	if len(bsb) != 6 || !onlyDigitsAnd(b.Branch, " -") {
		return gateways.SavedMethod{}, fmt.Errorf("%w: BSB must be 6 digits", gateways.ErrInvalidDetails)
	}
	acct := redact.Digits(b.AccountNumber)
	if len(acct) < 5 || len(acct) > 9 || !onlyDigitsAnd(b.AccountNumber, " -") {
		return gateways.SavedMethod{}, fmt.Errorf("%w: account number must be 5 to 9 digits", gateways.ErrInvalidDetails)
	}
	if name := strings.TrimSpace(b.AccountName); name == "" || len(name) > 32 {
		return gateways.SavedMethod{}, fmt.Errorf("%w: account name must be 1 to 32 characters", gateways.ErrInvalidDetails)
	}
	typ := strings.ToUpper(strings.TrimSpace(b.AccountType))
	if typ == "" {
		typ = "CHEQUE"
	}
	if typ != "CHEQUE" && typ != "SAVINGS" {
		return gateways.SavedMethod{}, fmt.Errorf("%w: account type must be CHEQUE or SAVINGS", gateways.ErrInvalidDetails)
	}
	return gateways.SavedMethod{
		Kind:        gateways.Bank,
		Mask:        BankMask(bsb, acct),
		AccountType: typ,
	}, nil
}

// BankMask is the display mask of an AU bank account: the bank's
// three-digit BSB prefix and the last three digits of the account number,
// "BSB 062-••• •••• 678". The full BSB is a routing number and masks are
// stored and rendered, so the branch digits stay out.
func BankMask(bsb, account string) string {
	bsb = redact.Digits(bsb)
	prefix := "•••"
	if len(bsb) == 6 {
		prefix = bsb[:3]
	}
	return "BSB " + prefix + "-••• " + gateways.MaskAccount(account)
}

// checkCard validates a card (Luhn, expiry not past at now, CVV shape).
func checkCard(cd gateways.CardDetails, now time.Time) (gateways.SavedMethod, error) {
	if !gateways.Luhn(cd.Number) {
		return gateways.SavedMethod{}, fmt.Errorf("%w: card number is not valid", gateways.ErrInvalidDetails)
	}
	if cd.ExpMonth < 1 || cd.ExpMonth > 12 || cd.ExpYear < 2000 || cd.ExpYear > 2100 {
		return gateways.SavedMethod{}, fmt.Errorf("%w: expiry must be a month 1-12 and a four-digit year", gateways.ErrInvalidDetails)
	}
	if cd.ExpYear < now.Year() || (cd.ExpYear == now.Year() && cd.ExpMonth < int(now.Month())) {
		return gateways.SavedMethod{}, fmt.Errorf("%w: card expired %02d/%04d", gateways.ErrInvalidDetails, cd.ExpMonth, cd.ExpYear)
	}
	if v := strings.TrimSpace(cd.CVV); v != "" && (len(v) < 3 || len(v) > 4 || redact.Digits(v) != v) {
		return gateways.SavedMethod{}, fmt.Errorf("%w: CVV must be 3 or 4 digits", gateways.ErrInvalidDetails)
	}
	brand := gateways.CardBrand(cd.Number)
	return gateways.SavedMethod{
		Kind:     gateways.Card,
		Mask:     gateways.CardMask(brand, cd.Number),
		Brand:    brand,
		ExpMonth: cd.ExpMonth,
		ExpYear:  cd.ExpYear,
	}, nil
}

// RemoveMethod removes the payer's payment details so nothing more can be
// debited. A payer IntegraPay does not know has nothing to remove.
func (c *Client) RemoveMethod(ctx context.Context, payerRef string, m gateways.SavedMethod) error {
	if payerRef == "" {
		payerRef = m.Token
	}
	if payerRef == "" {
		return fmt.Errorf("integrapay: remove method: %w: no payer reference", gateways.ErrInvalidDetails)
	}
	body := struct{ Audit audit }{c.audit("", "")}
	err := c.do(ctx, call{op: "remove payment details", method: http.MethodDelete, path: c.payerPath(payerRef, "accounts"), body: body}, nil)
	if errors.Is(err, gateways.ErrNotFound) {
		c.log.Info("payment method already gone", zap.String("payer_ref", payerRef))
		return nil
	}
	if err != nil {
		return err
	}
	c.log.Info("payment method removed", zap.String("payer_ref", payerRef), zap.String("kind", string(m.Kind)))
	return nil
}

// onlyDigitsAnd reports whether s holds nothing but digits and the
// separators people type ("062-000", "1234 5678").
func onlyDigitsAnd(s, seps string) bool {
	for _, r := range strings.TrimSpace(s) {
		if (r < '0' || r > '9') && !strings.ContainsRune(seps, r) {
			return false
		}
	}
	return true
}
