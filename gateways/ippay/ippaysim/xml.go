package ippaysim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
)

// inbound is a request document flattened to lower-case paths below the
// root: "transactiontype", "ach.token", attributes as "ach@type". Names are
// matched case-insensitively; element order is not enforced (working
// clients send different orders).
type inbound struct {
	root string
	f    map[string]string
}

func (in *inbound) get(k string) string {
	if in == nil {
		return ""
	}
	return in.f[k]
}

func (in *inbound) has(k string) bool {
	if in == nil {
		return false
	}
	_, ok := in.f[k]
	return ok
}

// responseRoot follows the request's dialect: <JetPay> gets
// <JetPayResponse>; <ippay> gets <IPPayResponse> for TOKENIZE and
// <ippayResponse> otherwise, the capitalisation quirk clients must handle.
func (in *inbound) responseRoot(typ string) string {
	if in != nil && strings.EqualFold(in.root, "jetpay") {
		return "JetPayResponse"
	}
	if typ == "TOKENIZE" {
		return "IPPayResponse"
	}
	return "ippayResponse"
}

func parseRequest(body []byte) (*inbound, error) {
	in := &inbound{f: map[string]string{}}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	var path []string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return in, errors.New("request is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if len(path) == 0 {
				if in.root != "" {
					return in, errors.New("more than one root element")
				}
				if name != "ippay" && name != "jetpay" {
					return in, errors.New("root element must be ippay or JetPay")
				}
				in.root = t.Name.Local
				path = append(path, "")
				continue
			}
			path = append(path, name)
			key := strings.Join(path[1:], ".")
			in.f[key] = ""
			for _, a := range t.Attr {
				in.f[key+"@"+strings.ToLower(a.Name.Local)] = strings.TrimSpace(a.Value)
			}
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(path) > 1 {
				key := strings.Join(path[1:], ".")
				if v := strings.TrimSpace(text.String()); v != "" {
					in.f[key] = v
				}
			}
			text.Reset()
			path = path[:len(path)-1]
		}
	}
	if in.root == "" {
		return in, errors.New("no root element")
	}
	return in, nil
}

// reply is a response document. Field order follows the replies public
// clients recorded from the test gateway.
type reply struct {
	XMLName        xml.Name
	TransactionID  string  `xml:"TransactionID,omitempty"`
	ActionCode     string  `xml:"ActionCode"`
	Approval       string  `xml:"Approval,omitempty"`
	ResponseText   string  `xml:"ResponseText,omitempty"`
	AVS            string  `xml:"AVS,omitempty"`
	CVV2           string  `xml:"CVV2,omitempty"`
	Token          string  `xml:"Token,omitempty"`
	AdditionalInfo *string `xml:"AdditionalInfo,omitempty"`
	ErrMsg         string  `xml:"ErrMsg,omitempty"`
}

func writeReply(w http.ResponseWriter, root string, r reply) {
	r.XMLName = xml.Name{Local: root}
	b, err := xml.MarshalIndent(r, "", "  ")
	if err != nil {
		http.Error(w, "encode reply", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Write(b)
}
