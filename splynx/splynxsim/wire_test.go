package splynxsim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The count header goes out spelt exactly as Splynx spells it: its PHP
// client looks up "X-total-count" case-sensitively. Read off the raw
// connection, since Go's client canonicalises header names on the way in.
func TestCountHeaderRawBytes(t *testing.T) {
	_, api := newTestSim(t, Options{}, &SeedConfig{Seed: 5, Customers: 10, Invoices: 37})
	u, err := url.Parse(api.base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "HEAD %sadmin/finance/invoices HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nConnection: close\r\n\r\n",
		u.Path, u.Host, api.authHeader())
	var head bytes.Buffer
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		head.WriteString(line)
		if err != nil || line == "\r\n" {
			break
		}
	}
	raw := head.String()
	if !strings.HasPrefix(raw, "HTTP/1.1 204") {
		t.Fatalf("status line: %q", raw)
	}
	if !strings.Contains(raw, "\r\nX-total-count: 37\r\n") {
		t.Errorf("no exact \"X-total-count: 37\" header line in:\n%s", raw)
	}
	if strings.Contains(raw, "X-Total-Count") {
		t.Errorf("canonicalised X-Total-Count sent:\n%s", raw)
	}
}

// A multipart/form-data POST (a public Node client's addPayment) creates
// the record just as urlencoded and JSON bodies do.
func TestFormBodiesBothEncodings(t *testing.T) {
	s, api := newTestSim(t, Options{}, &SeedConfig{Seed: 3, Customers: 5, Invoices: 5})
	cid := s.AddCustomer(Customer{Name: "Forms"})
	fields := [][2]string{{"customer_id", itoa(cid)}, {"payment_type", "3"}, {"date", "2026-11-02"},
		{"comment", "form & co"}, {"additional_attributes[x]", "y"}}
	post := func(amount, receipt string, multi bool) resp {
		t.Helper()
		var body bytes.Buffer
		ct := "application/x-www-form-urlencoded"
		all := append(fields[:len(fields):len(fields)], [2]string{"amount", amount}, [2]string{"receipt_number", receipt})
		if multi {
			mw := multipart.NewWriter(&body)
			for _, f := range all {
				mw.WriteField(f[0], f[1])
			}
			fw, _ := mw.CreateFormFile("attachment", "note.txt") // a file part is not a field
			io.WriteString(fw, "ignored")
			mw.Close()
			ct = mw.FormDataContentType()
		} else {
			v := url.Values{}
			for _, f := range all {
				v.Add(f[0], f[1])
			}
			body.WriteString(v.Encode())
		}
		req, _ := http.NewRequest(http.MethodPost, api.base+"admin/finance/payments", &body)
		req.Header.Set("Authorization", api.authHeader())
		req.Header.Set("Content-Type", ct)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return resp{status: res.StatusCode, header: res.Header, body: raw}
	}
	for _, tc := range []struct {
		multi   bool
		receipt string
		amount  string
	}{{false, "SPFORMURLENCODED01", "12.34"}, {true, "SPFORMMULTIPART001", "56.78"}} {
		r := post(tc.amount, tc.receipt, tc.multi)
		if r.status != http.StatusCreated {
			t.Fatalf("multipart=%v: status %d body %s", tc.multi, r.status, r.body)
		}
		found := api.mustDo(http.MethodGet, "admin/finance/payments?main_attributes%5Breceipt_number%5D="+tc.receipt, nil, 200).list(t)
		if len(found) != 1 || str(found[0]["customer_id"]) != itoa(cid) || !strings.HasPrefix(str(found[0]["amount"]), tc.amount) ||
			found[0]["comment"] != "form & co" {
			t.Errorf("multipart=%v: stored %v", tc.multi, found)
		}
	}
	bad := http.Header{}
	bad.Set("Content-Type", "multipart/form-data") // no boundary
	req, _ := http.NewRequest(http.MethodPost, api.base+"admin/finance/payments", strings.NewReader("x"))
	req.Header = bad
	req.Header.Set("Authorization", api.authHeader())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("multipart without boundary: %d", res.StatusCode)
	}
}
