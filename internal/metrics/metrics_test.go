package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestOperationDropsIdentifiers(t *testing.T) {
	for in, want := range map[string]string{
		"/businesses/B123/payers/42/transactions/card":   "POST payers/{ref}/transactions/card",
		"/businesses/B123/payers/jane.doe/accounts":      "POST payers/{ref}/accounts",
		"/businesses/B123/transactions/card-payments/77": "POST transactions/card-payments/{id}",
		"/login": "POST login",
	} {
		if got := Operation("POST", in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// Requests through the transports are counted by what the server answered.
func TestTransportsCountAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	before := value(gatewayRequests.WithLabelValues("testgw", "GET bad", "server_error"))
	c := GatewayClient("testgw")
	for range 2 {
		resp, err := c.Get(srv.URL + "/bad")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := value(gatewayRequests.WithLabelValues("testgw", "GET bad", "server_error")) - before; got != 2 {
		t.Fatalf("counted %v server errors", got)
	}
	s := SplynxClient()
	resp, err := s.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if value(splynxRequests.WithLabelValues("200")) < 1 {
		t.Fatal("Splynx request not counted")
	}
	srv.Close()
	if _, err := s.Get(srv.URL + "/gone"); err == nil {
		t.Fatal("expected an error")
	}
	if value(splynxRequests.WithLabelValues("error")) < 1 {
		t.Fatal("failed Splynx request not counted")
	}
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
