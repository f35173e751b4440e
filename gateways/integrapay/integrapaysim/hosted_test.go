package integrapaysim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A simulator mounted under a path prefix (as the demo mounts it) sends
// browsers to its hosted page under that prefix.
func TestHostedPageURLKeepsTheMountPrefix(t *testing.T) {
	s := New(Options{})
	mux := http.NewServeMux()
	mux.Handle("/integrapay/", http.StripPrefix("/integrapay", s.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/integrapay/login", "application/json",
		strings.NewReader(`{"Username":"`+DefaultUsername+`","Password":"`+DefaultPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	body := `{"ReturnUrl":"https://isp.example/r","Template":"Basic-eDDR","Payer":{"UniqueReference":"C1","FamilyOrBusinessName":"Citizen","GivenName":"Jane"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/integrapay/businesses/"+DefaultBusinessID+"/services/tokens/eddr/", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+login.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Token         string `json:"token"`
		RedirectToURL string `json:"redirectToUrl"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if want := srv.URL + "/integrapay/ui/eddr/api/" + page.Token; resp.StatusCode != http.StatusOK || page.RedirectToURL != want {
		t.Fatalf("%d %q, want %q", resp.StatusCode, page.RedirectToURL, want)
	}
	got, err := http.Get(page.RedirectToURL)
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if got.StatusCode != http.StatusOK {
		t.Fatalf("the hosted page answered %d", got.StatusCode)
	}
	if v, _ := s.Hosted(page.Token); v.Status != "VALIDATED" || v.Kind != "EDDR" || v.PayerRef != "C1" {
		t.Fatalf("%+v", v)
	}
}
