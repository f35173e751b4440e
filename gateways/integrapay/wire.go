package integrapay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// dollars formats cents as the API's decimal dollars with exactly two
// places, as a JSON number ("33.75"), without going through float.
func dollars(cents int64) json.Number {
	sign := ""
	if cents < 0 {
		sign = "-"
		cents = -cents
	}
	return json.Number(fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100))
}

// amount reads a dollar amount sent as a number (61.87, 35) or a string
// ("61.87"); null and "" read as absent.
type amount struct {
	cents int64
	set   bool
}

func (a *amount) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if bytes.Equal(t, []byte("null")) {
		*a = amount{}
		return nil
	}
	s := string(t)
	if len(t) > 0 && t[0] == '"' {
		if err := json.Unmarshal(t, &s); err != nil {
			return fmt.Errorf("amount: %w", err)
		}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		*a = amount{}
		return nil
	}
	v, err := money.Parse(s)
	if err != nil {
		return fmt.Errorf("amount %q: %w", s, err)
	}
	*a = amount{cents: int64(v), set: true}
	return nil
}

// text reads a JSON string, number or null as a string; ids arrive both ways.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("expected a string or number: %w", err)
		}
		*t = text(n.String())
	}
	return nil
}

// audit is the optional Audit block of mutating calls.
type audit struct {
	Username string
	UserIP   string `json:",omitempty"`
}

// transaction is the transaction object of the status feed and lookups.
// Card and bank details it echoes are deliberately not decoded.
type transaction struct {
	Time                   text   `json:"time"`
	TransactionID          text   `json:"transactionId"`
	SecondaryTransactionID text   `json:"secondaryTransactionId"`
	Reference              text   `json:"reference"`
	Description            text   `json:"description"`
	ScheduledPaymentID     text   `json:"scheduledPaymentId"`
	Amount                 amount `json:"amount"`
	AmountRequested        amount `json:"amountRequested"`
	Type                   text   `json:"type"`
	StatusCode             text   `json:"statusCode"`
	SubStatusCode          text   `json:"subStatusCode"`
	StatusDescription      text   `json:"statusDescription"`
	PaymentMethod          text   `json:"paymentMethod"`
}

// decodeList reads a body that may hold one object, a list of them, an
// empty object or nothing.
func decodeList[T any](body []byte) ([]T, error) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("{}")) {
		return nil, nil
	}
	if t[0] == '[' {
		var list []T
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	// Some list endpoints wrap the rows; accept {"items"|"data"|"results": [...]}.
	var wrapped struct {
		Items   []T `json:"items"`
		Data    []T `json:"data"`
		Results []T `json:"results"`
	}
	if err := json.Unmarshal(t, &wrapped); err == nil {
		if n := len(wrapped.Items) + len(wrapped.Data) + len(wrapped.Results); n > 0 {
			return append(append(wrapped.Items, wrapped.Data...), wrapped.Results...), nil
		}
	}
	var one T
	if err := json.Unmarshal(t, &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}

// parseTime reads the API's ISO-8601 times ("2021-11-22T20:51:49.89+00:00",
// sometimes without an offset, then taken as UTC).
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
