package integrapay

// Hosted pages (spec §8): HPP (card, optionally with a payment) and eDDR
// (bank account or card with the Direct Debit Request accepted on the
// page), created with POST services/tokens/{hpp|eddr}/ and read back with
// GET services/tokens/{token} [C S2,S6,S8,S9]. The customer types the numbers
// on IntegraPay's page; we only ever see the token, masks and statuses.
//
// Confirmed: the paths, the request fields ReturnUrl, Template,
// CardAuthorizationType, Transaction{...}, Payer{SavePayer, ...}, Audit; the
// answer {token, redirectToUrl}; 20 minutes of validity; the return to
// ReturnUrl?webPageToken={token}; the lookup's token, type, status,
// statusDescription, transaction (§7.3), payer (§5.3) and events; the token
// statuses. Inferred and tolerated: where the lookup shows the saved card or
// bank account (transaction.card, card, payer.card, bankAccount,
// payer.bankAccount, transaction.bankAccount: all are read, masked at once),
// the spelling of the answer's keys (webPageToken / redirectUrl are accepted
// too), a status written with spaces or in lower case, the transaction as a
// one-element list, and which event marks the completion (the newest event
// with a time; its IP when it has one).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/redact"
)

// Templates of the hosted pages (spec §8: "Basic" for HPP, "Basic-eDDR").
const (
	HPPTemplate  = "Basic"
	EDDRTemplate = "Basic-eDDR"
)

var _ gateways.HostedPages = (*Client)(nil)

type hostedTransaction struct {
	ProcessType  string
	Reference    string
	Description  string
	Amount       json.Number
	CurrencyCode string
	ServiceDate  string
}

type hostedPayer struct {
	SavePayer            bool
	UniqueReference      string
	GroupReference       string
	FamilyOrBusinessName string
	GivenName            string
	Email                string
	Phone                string
	Address              addressBody
}

type hostedBody struct {
	ReturnUrl             string //nolint:revive // the API's spelling
	Template              string
	CardAuthorizationType string             `json:",omitempty"`
	Transaction           *hostedTransaction `json:",omitempty"`
	Payer                 hostedPayer
	Audit                 audit
}

// CreateHostedPage creates an HPP or eDDR token (spec §8). It is sent
// once: a lost answer leaves a token nobody was sent to, which can take
// no money.
func (c *Client) CreateHostedPage(ctx context.Context, req gateways.HostedRequest) (gateways.HostedPage, error) {
	ru, err := url.Parse(req.ReturnURL)
	if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
		return gateways.HostedPage{}, fmt.Errorf("integrapay: hosted page: %w: return URL %q is not absolute", gateways.ErrInvalidDetails, req.ReturnURL)
	}
	if req.Payer.Reference == "" {
		return gateways.HostedPage{}, fmt.Errorf("integrapay: hosted page: %w: no payer reference", gateways.ErrInvalidDetails)
	}
	pb := c.payerBody(req.Payer)
	body := hostedBody{ReturnUrl: req.ReturnURL, Audit: c.audit(req.Operator, req.CustomerIP),
		Payer: hostedPayer{SavePayer: req.SavePayer, UniqueReference: pb.UniqueReference, GroupReference: pb.UniqueReference,
			FamilyOrBusinessName: pb.FamilyOrBusinessName, GivenName: pb.GivenName, Email: pb.Email, Phone: pb.Phone, Address: pb.Address}}
	var path string
	switch req.Kind {
	case gateways.HostedCard:
		path, body.Template, body.CardAuthorizationType = "services/tokens/hpp/", HPPTemplate, "RECURRING"
	case gateways.HostedBank:
		path, body.Template = "services/tokens/eddr/", EDDRTemplate
		// eDDR keeps the details on the payer: that is what it is for.
		body.Payer.SavePayer = true
	default:
		return gateways.HostedPage{}, fmt.Errorf("integrapay: hosted page: %w: kind %q", gateways.ErrInvalidDetails, req.Kind)
	}
	if ch := req.Charge; ch != nil {
		if req.Kind != gateways.HostedCard {
			return gateways.HostedPage{}, fmt.Errorf("integrapay: hosted page: %w: only the card page takes a payment", gateways.ErrInvalidDetails)
		}
		if ch.Amount <= 0 || ch.Reference == "" {
			return gateways.HostedPage{}, fmt.Errorf("integrapay: hosted page: %w: payment needs a reference and a positive amount", gateways.ErrInvalidDetails)
		}
		cur := ch.Currency
		if cur == "" {
			cur = "AUD"
		}
		body.Transaction = &hostedTransaction{ProcessType: "COMPLETE", Reference: ch.Reference, Description: ch.Description,
			Amount: dollars(ch.Amount), CurrencyCode: cur, ServiceDate: c.clk.Now().In(c.loc).Format(time.RFC3339)}
	}
	created := c.clk.Now()
	var raw rawBody
	if err := c.do(ctx, call{op: "create hosted page", method: http.MethodPost, path: path, body: body}, &raw); err != nil {
		return gateways.HostedPage{}, err
	}
	var resp struct {
		Token         text `json:"token"`
		WebPageToken  text `json:"webPageToken"`
		RedirectToURL text `json:"redirectToUrl"`
		RedirectURL   text `json:"redirectUrl"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return gateways.HostedPage{}, fmt.Errorf("integrapay: create hosted page: %w", ErrMalformed)
	}
	page := gateways.HostedPage{Token: string(first(resp.Token, resp.WebPageToken)), URL: string(first(resp.RedirectToURL, resp.RedirectURL)),
		ExpiresAt: created.Add(gateways.HostedPageTTL)}
	pu, err := url.Parse(page.URL)
	if page.Token == "" || err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return gateways.HostedPage{}, fmt.Errorf("integrapay: create hosted page: %w: no token or no redirect URL", ErrMalformed)
	}
	c.log.Info("hosted page created", zap.String("kind", string(req.Kind)), zap.String("payer_ref", req.Payer.Reference),
		zap.String("hosted_token", page.Token), zap.Bool("with_payment", req.Charge != nil))
	return page, nil
}

func first(vs ...text) text {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// HostedOrigin is where IntegraPay serves its hosted pages: the hosted.
// host beside the configured REST host (sandbox.hosted.paymentsapi.io is
// confirmed, the production host is inferred), or the REST host itself
// when it is not one of IntegraPay's (a simulator serves both).
func (c *Client) HostedOrigin() string {
	u, err := url.Parse(c.cfg.APIURL)
	if err != nil {
		return ""
	}
	host := u.Host
	if strings.HasSuffix(host, "paymentsapi.io") {
		host = strings.Replace(host, "rest.", "hosted.", 1)
	}
	return u.Scheme + "://" + host
}

// hostedCard and hostedBank read what a lookup shows of saved details; the
// numbers in them are masked as soon as they are read and never kept.
type hostedCard struct {
	CardNumber     text `json:"cardNumber"`
	CardholderName text `json:"cardholderName"`
	CardExpires    text `json:"cardExpires"`
	CardType       text `json:"cardType"`
}

type hostedBank struct {
	AccountBranch text `json:"accountBranch"`
	AccountNumber text `json:"accountNumber"`
	AccountName   text `json:"accountName"`
	AccountType   text `json:"accountType"`
}

type hostedTx struct {
	transaction
	Card        *hostedCard `json:"card"`
	BankAccount *hostedBank `json:"bankAccount"`
}

type hostedLookup struct {
	Token             text            `json:"token"`
	Type              text            `json:"type"`
	Time              text            `json:"time"`
	Status            text            `json:"status"`
	StatusDescription text            `json:"statusDescription"`
	Transaction       json.RawMessage `json:"transaction"`
	Payer             *struct {
		UniqueReference text        `json:"uniqueReference"`
		Card            *hostedCard `json:"card"`
		BankAccount     *hostedBank `json:"bankAccount"`
	} `json:"payer"`
	Card        *hostedCard `json:"card"`
	BankAccount *hostedBank `json:"bankAccount"`
	RequestHpp  *struct {
		Payer *struct {
			UniqueReference text `json:"uniqueReference"`
		} `json:"payer"`
	} `json:"requestHpp"`
	Events []struct {
		Event       text `json:"event"`
		Time        text `json:"time"`
		Description text `json:"description"`
		IP          text `json:"ip"`
	} `json:"events"`
}

// LookupHostedPage reads a hosted page's token (spec §8). Payrix advises
// waiting 5-10 s after the return before asking; a caller that finds the
// page still WAITING or VALIDATED asks again later.
func (c *Client) LookupHostedPage(ctx context.Context, token string) (gateways.HostedResult, error) {
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, "/?#%") {
		return gateways.HostedResult{}, fmt.Errorf("integrapay: look up hosted page: %w: malformed token", gateways.ErrNotFound)
	}
	var raw rawBody
	err := c.do(ctx, call{op: "look up hosted page", method: http.MethodGet, path: "services/tokens/" + url.PathEscape(token), idempotent: true}, &raw)
	if err != nil {
		return gateways.HostedResult{}, err
	}
	var lk hostedLookup
	if err := json.Unmarshal(raw, &lk); err != nil || (lk.Token == "" && lk.Status == "") {
		return gateways.HostedResult{}, fmt.Errorf("integrapay: look up hosted page: %w", ErrMalformed)
	}
	res := gateways.HostedResult{Token: string(lk.Token), Status: HostedStatus(string(lk.Status)),
		Message: gateways.ScrubDigits(string(lk.StatusDescription))}
	if res.Token == "" {
		res.Token = token
	}
	switch strings.ToUpper(strings.TrimSpace(string(lk.Type))) {
	case "EDDR":
		res.Kind = gateways.HostedBank
	default:
		res.Kind = gateways.HostedCard
	}
	switch res.Status {
	case "WAITING", "VALIDATED":
		res.Open = true
	case "PROCESSED_SUCCESSFUL":
		res.Completed = true
	case "PROCESSED_REJECTED", "CANCELLED", "ERROR", "FRAUD_CHECK_DECLINE", "FRAUD_CHECK_ERROR", "EXPIRED":
	default:
		// A status the spec does not list: it proves nothing, so the
		// page counts as still open and is asked about again.
		res.Open = true
	}
	if lk.Payer != nil {
		res.PayerRef = string(lk.Payer.UniqueReference)
	}
	if res.PayerRef == "" && lk.RequestHpp != nil && lk.RequestHpp.Payer != nil {
		res.PayerRef = string(lk.RequestHpp.Payer.UniqueReference)
	}
	var tx *hostedTx
	if t := strings.TrimSpace(string(lk.Transaction)); t != "" && t != "null" && t != "{}" {
		list, err := decodeList[hostedTx](lk.Transaction)
		if err != nil || len(list) > 1 {
			return gateways.HostedResult{}, fmt.Errorf("integrapay: look up hosted page %s: %w: transaction", token, ErrMalformed)
		}
		if len(list) == 1 && (list[0].Reference != "" || list[0].TransactionID != "") {
			tx = &list[0]
			o, _ := recordOutcome(tx.transaction)
			res.Charge = &o
		}
	}
	// What was saved: a card or a bank account, wherever the answer shows it.
	cards := []*hostedCard{lk.Card}
	banks := []*hostedBank{lk.BankAccount}
	if lk.Payer != nil {
		cards, banks = append(cards, lk.Payer.Card), append(banks, lk.Payer.BankAccount)
	}
	if tx != nil {
		cards, banks = append(cards, tx.Card), append(banks, tx.BankAccount)
	}
	for _, cd := range cards {
		if cd != nil && cd.CardNumber != "" {
			res.Method = cardSaved(cd)
			break
		}
	}
	if res.Method == nil {
		for _, bk := range banks {
			if bk != nil && bk.AccountNumber != "" {
				res.Method = &gateways.SavedMethod{Kind: gateways.Bank, Mask: BankMask(string(bk.AccountBranch), string(bk.AccountNumber)),
					HolderName: strings.TrimSpace(string(bk.AccountName)), AccountType: strings.ToUpper(string(bk.AccountType))}
				break
			}
		}
	}
	if res.Method == nil && res.Completed && res.Kind == gateways.HostedBank {
		// eDDR saved something the answer does not describe.
		res.Method = &gateways.SavedMethod{Kind: gateways.Bank, Mask: "IntegraPay eDDR account"}
	}
	if res.Method != nil {
		res.Method.Token = res.PayerRef
	}
	for i := len(lk.Events) - 1; i >= 0; i-- {
		ev := lk.Events[i]
		if at := parseTime(string(ev.Time)); !at.IsZero() {
			res.AcceptedAt, res.AcceptedIP = at, strings.TrimSpace(string(ev.IP))
			break
		}
	}
	if res.AcceptedAt.IsZero() {
		res.AcceptedAt = parseTime(string(lk.Time))
	}
	c.log.Info("hosted page looked up", zap.String("hosted_token", res.Token), zap.String("status", res.Status),
		zap.String("payer_ref", res.PayerRef), zap.Bool("with_payment", res.Charge != nil))
	return res, nil
}

// HostedStatus normalises a token status: upper case, words joined by "_".
func HostedStatus(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

func cardSaved(cd *hostedCard) *gateways.SavedMethod {
	digits := lastDigits(string(cd.CardNumber), 4)
	brand := strings.TrimSpace(string(cd.CardType))
	if brand == "" {
		brand = gateways.CardBrand(string(cd.CardNumber))
	}
	m := &gateways.SavedMethod{Kind: gateways.Card, Brand: brand, Mask: strings.TrimSpace(brand + " •••• " + digits),
		HolderName: strings.TrimSpace(string(cd.CardholderName))}
	if t := parseTime(string(cd.CardExpires)); !t.IsZero() {
		m.ExpMonth, m.ExpYear = int(t.Month()), t.Year()
	}
	return m
}

// lastDigits keeps the last n digits of a (possibly masked) number.
func lastDigits(s string, n int) string {
	d := redact.Digits(s)
	if len(d) > n {
		d = d[len(d)-n:]
	}
	return d
}

// saveHosted records what a completed hosted page saved for the payer
// (SaveMethod with HostedToken): the token must be completed and belong to
// the payer.
func (c *Client) saveHosted(ctx context.Context, req gateways.SaveMethodRequest) (gateways.SavedMethod, error) {
	ref := req.Payer.Reference
	res, err := c.LookupHostedPage(ctx, req.HostedToken)
	if err != nil {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method for %s: %w", ref, err)
	}
	if !res.Completed || res.Method == nil {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method for %s: %w: hosted page %s is %s and saved nothing", ref,
			gateways.ErrInvalidDetails, req.HostedToken, res.Status)
	}
	if res.PayerRef == "" || !strings.EqualFold(res.PayerRef, ref) {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method for %s: %w: hosted page %s belongs to another payer", ref,
			gateways.ErrInvalidDetails, req.HostedToken)
	}
	if res.Charge != nil && res.Charge.Status == gateways.Declined {
		return gateways.SavedMethod{}, fmt.Errorf("integrapay: save method for %s: %w: the card was declined on the hosted page", ref, gateways.ErrInvalidDetails)
	}
	m := *res.Method
	m.Token = ref
	c.log.Info("payment method saved on a hosted page", zap.String("payer_ref", ref), zap.String("kind", string(m.Kind)),
		zap.String("hosted_token", req.HostedToken))
	return m, nil
}
