package ippay

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// request is one <ippay> document. Field order is the spec's §2.1 order
// (IPpay probably does not enforce it, but the clients that worked against
// the test host all emit it). Empty fields are left out. encoding/xml
// escapes every value; encode then replaces non-ASCII runes with character
// references so the body is plain ASCII whatever a customer's name holds.
type request struct {
	XMLName         xml.Name `xml:"ippay"`
	TransactionType string   `xml:"TransactionType"`
	TerminalID      string   `xml:"TerminalID"`
	TransactionID   string   `xml:"TransactionID,omitempty"`
	Approval        string   `xml:"Approval,omitempty"`
	Origin          string   `xml:"Origin,omitempty"`
	OrderNumber     string   `xml:"OrderNumber,omitempty"`
	CardNum         *cardNum `xml:"CardNum,omitempty"`
	Token           string   `xml:"Token,omitempty"`
	CardExpMonth    string   `xml:"CardExpMonth,omitempty"`
	CardExpYear     string   `xml:"CardExpYear,omitempty"`
	// ABA and AccountNumber at top level are how a bank account is
	// tokenized (OCA, Omnipay); §2.1 has no slot for them, so they sit
	// where <ACH> would.
	ABA           string `xml:"ABA,omitempty"`
	AccountNumber string `xml:"AccountNumber,omitempty"`
	ACH           *ach   `xml:"ACH,omitempty"`
	CardName      string `xml:"CardName,omitempty"`
	TotalAmount   string `xml:"TotalAmount,omitempty"`
	UserIPAddress string `xml:"UserIPAddress,omitempty"`
	UDField1      string `xml:"UDField1,omitempty"`
	UDField2      string `xml:"UDField2,omitempty"`
}

type cardNum struct {
	Tokenize string `xml:"Tokenize,attr,omitempty"`
	Number   string `xml:",chardata"`
}

type ach struct {
	Type          string `xml:"Type,attr,omitempty"`
	SEC           string `xml:"SEC,attr,omitempty"`
	AccountNumber string `xml:"AccountNumber,omitempty"`
	ABA           string `xml:"ABA,omitempty"`
	CheckNumber   string `xml:"CheckNumber,omitempty"`
	Token         string `xml:"Token,omitempty"`
}

// encode renders the request body.
func (r *request) encode() ([]byte, error) {
	b, err := xml.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ippay: encode %s request: %w", r.TransactionType, err)
	}
	return asciiOnly(b), nil
}

// asciiOnly replaces every non-ASCII rune by a numeric character reference,
// valid in both text and attribute values.
func asciiOnly(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return b
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		if r < utf8.RuneSelf {
			out.WriteRune(r)
			continue
		}
		out.WriteString("&#" + strconv.Itoa(int(r)) + ";")
	}
	return out.Bytes()
}

// response holds what we read from <ippayResponse>, <IPPayResponse> or
// <JetPayResponse>. The layout is flat and any child may be missing. Text
// fields are masked as they are read: an error body can echo the request,
// card number included, and nothing unmasked should outlive the parse.
type response struct {
	Root           string `json:"root"`
	TransactionID  string `json:"transaction_id,omitempty"`
	ActionCode     string `json:"action_code"`
	Approval       string `json:"approval,omitempty"`
	ResponseText   string `json:"response_text,omitempty"`
	Token          string `json:"token,omitempty"`
	AVS            string `json:"avs,omitempty"`
	CVV2           string `json:"cvv2,omitempty"`
	ErrMsg         string `json:"err_msg,omitempty"`
	AdditionalInfo string `json:"additional_info,omitempty"`
	// HasAdditionalInfo is true even when the element is empty: OCA treats
	// the element's mere presence as significant.
	HasAdditionalInfo bool `json:"has_additional_info,omitempty"`
}

// ok is the success rule of spec §7: ActionCode 000 and no ErrMsg.
func (r response) ok() bool { return r.ActionCode == "000" && r.ErrMsg == "" }

// text is the gateway's explanation, masked: ErrMsg wins over ResponseText
// (as BOP does), because an ErrMsg says what was wrong with the request.
func (r response) text() string {
	t := r.ResponseText
	if r.ErrMsg != "" {
		t = r.ErrMsg
	}
	return cleanText(t)
}

// ErrMalformed marks a reply that is not an IPpay response document.
var ErrMalformed = errors.New("ippay: malformed response")

const maxField = 4096

// parseResponse reads a reply body. Root and child names are matched
// case-insensitively by local name (TOKENIZE replies use IPPayResponse,
// others ippayResponse, the JetPay dialect JetPayResponse); nested or
// unknown elements are skipped. A document without an ActionCode is
// malformed: every reply the gateway gives carries one.
func parseResponse(body []byte) (response, error) {
	var r response
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charsetReader
	root := false
	depth := 0
	var field string
	var buf strings.Builder
	seenAction := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return response{}, fmt.Errorf("%w: %s", ErrMalformed, cleanText(err.Error()))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if root {
					return response{}, fmt.Errorf("%w: more than one root element", ErrMalformed)
				}
				name := strings.ToLower(t.Name.Local)
				if name != "ippayresponse" && name != "jetpayresponse" {
					return response{}, fmt.Errorf("%w: unexpected root <%s>", ErrMalformed, cleanText(t.Name.Local))
				}
				root = true
				r.Root = t.Name.Local
				continue
			}
			if depth == 2 {
				field = strings.ToLower(t.Name.Local)
				buf.Reset()
				if field == "additionalinfo" {
					r.HasAdditionalInfo = true
				}
			}
		case xml.CharData:
			if depth == 2 && buf.Len() < maxField {
				buf.Write(t)
			}
		case xml.EndElement:
			if depth == 2 {
				v := strings.TrimSpace(buf.String())
				switch field {
				case "transactionid":
					r.TransactionID = v
				case "actioncode":
					r.ActionCode = v
					seenAction = true
				case "approval":
					r.Approval = v
				case "responsetext":
					r.ResponseText = cleanText(v)
				case "token":
					r.Token = v
				case "avs":
					r.AVS = v
				case "cvv2":
					r.CVV2 = v
				case "errmsg":
					r.ErrMsg = cleanText(v)
				case "additionalinfo":
					r.AdditionalInfo = cleanText(v)
				}
				field = ""
			}
			depth--
		}
	}
	if !root {
		return response{}, fmt.Errorf("%w: no response element", ErrMalformed)
	}
	if !seenAction || r.ActionCode == "" {
		return response{}, fmt.Errorf("%w: no ActionCode", ErrMalformed)
	}
	return r, nil
}

// charsetReader accepts the declarations seen in the wild (BOP sends
// us-ascii) and reads Latin-1 byte for byte.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(io.LimitReader(in, maxBody))
		if err != nil {
			return nil, err
		}
		var out strings.Builder
		for _, c := range b {
			out.WriteRune(rune(c))
		}
		return strings.NewReader(out.String()), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}

// cleanText masks digit runs (card, account and routing numbers an error
// body may echo), drops control characters and caps the length, so the
// result is safe for a log line, an error string or Outcome.Message.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = scrub(s)
	const maxLen = 300
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
