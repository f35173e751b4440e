package integrapaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fidelity holds behaviours that public IntegraPay clients, replayed
// against this simulator, showed to be uncertain (issue 17). The zero value
// keeps the simulator's earlier answers.
type Fidelity struct {
	// MissingPayerEmpty answers every payers/{ref}/... request for a payer
	// that does not exist with 200 and an empty object, as one real client
	// (S7) expects, instead of 404 InvalidPayer. Which one the real API
	// does is not known (spec §5.3); clients must take both as not found.
	MissingPayerEmpty bool
}

// missingPayer is the answer about a payer that does not exist.
func (s *Sim) missingPayer(ref string) *apiError {
	if s.opts.Fidelity.MissingPayerEmpty {
		return &apiError{status: http.StatusOK}
	}
	return fail(http.StatusNotFound, "InvalidPayer", fmt.Sprintf("No payer with UniqueReference of '%s' was found.", ref), "UniqueReference")
}

// flexText is a reference field real clients send as a string or as a
// number ("UniqueReference": 1234), as the login body's fields already are.
type flexText string

func (f *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a reference must be a string or a number, not %s", b)
	}
	*f = flexText(n.String())
	return nil
}

// flexInt is a whole number real clients send as a number or as a numeric
// string ("ExpiryMonth": "07").
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a whole number", b)
	}
	*f = flexInt(n)
	return nil
}

// tokenPaymentReq is the body of POST transactions/card-payments/token
// (spec §6.2): a real-time payment with a one-off card token, linked to a
// payer or anonymous.
type tokenPaymentReq struct {
	paymentReq
	CardToken string
	Payer     *struct {
		UniqueReference      flexText
		GroupReference       flexText
		FamilyOrBusinessName string
		GivenName            string
		Email                string
		Phone                string
		SavePayer            bool
	}
}

// chargeCardToken serves POST transactions/card-payments/token. With a
// Payer whose uniqueReference exists, the payment is linked to it; with
// savePayer, a payer that does not exist is created and the card becomes
// its payment method. The answer has §6.1's shape.
func (s *Sim) chargeCardToken(w http.ResponseWriter, bid string, body []byte, now time.Time) *apiError {
	var in tokenPaymentReq
	if e := decode(body, &in); e != nil {
		return e
	}
	cents, e := checkRealtime(in.paymentReq)
	if e != nil {
		return e
	}
	m, ok := s.cards[in.CardToken]
	if !ok {
		return fail(http.StatusBadRequest, "InvalidPaymentMethod", "The card token is not valid", "CardToken")
	}
	var p *payer
	if in.Payer != nil && in.Payer.UniqueReference != "" {
		ref := string(in.Payer.UniqueReference)
		p = s.payers[bid+"/"+ref]
		if p == nil && in.Payer.SavePayer {
			if strings.TrimSpace(in.Payer.FamilyOrBusinessName) == "" {
				return badRequest("The FamilyOrBusinessName field is required.", "Payer.FamilyOrBusinessName")
			}
			s.seqPayer++
			p = &payer{bid: bid, ref: ref, payerID: strconv.Itoa(s.seqPayer), statusCode: "A", created: now}
			p.apply(payerReq{GroupReference: in.Payer.GroupReference, FamilyOrBusinessName: in.Payer.FamilyOrBusinessName,
				GivenName: in.Payer.GivenName, Email: in.Payer.Email, Phone: in.Payer.Phone})
			s.payers[bid+"/"+ref] = p
		}
		if p != nil && in.Payer.SavePayer {
			card := m
			p.method = &card
		}
	}
	return s.realtimeCard(w, bid, p, m, in.paymentReq, cents, now)
}
