package integrapaysim_test

import (
	"testing"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
)

// TestRoutes pins what the router answers at its edges (methods a path
// does not serve, trailing slashes, short paths, auth before 404), so the
// router can change without the wire changing.
func TestRoutes(t *testing.T) {
	for _, inferred := range []bool{false, true} {
		r := newRigWith(t, integrapaysim.Options{Inferred: inferred})
		r.api("POST", "payers", `{"UniqueReference":"C1","FamilyOrBusinessName":"Citizen"}`)
		ifInferred := func(on, off int) int {
			if inferred {
				return on
			}
			return off
		}
		for _, c := range []struct {
			method, path, tok string
			status            int
			code, detail      string
		}{
			{"GET", "/login", "", 405, "BadRequest", ""},
			{"POST", "/login/x", "", 404, "NotFound", "/login/x"},
			{"GET", "/", "", 404, "NotFound", "/"},
			{"GET", "/businesses/90129", "", 404, "NotFound", "/businesses/90129"},
			{"GET", "/businesses/90129/", "", 404, "NotFound", "/businesses/90129/"},
			{"GET", "/elsewhere/90129/payers/C1", r.tok, 404, "NotFound", "/elsewhere/90129/payers/C1"},
			{"GET", "/businesses/90129/payers", "", 401, "Unauthorized", ""},
			{"DELETE", "/businesses/90129/payers", r.tok, 404, "NotFound", "payers"},
			{"POST", "/businesses/90129/payers/C1", r.tok, 404, "NotFound", "payers/C1"},
			{"GET", "/businesses/90129/payers/C2/", r.tok, 404, "InvalidPayer", "UniqueReference"},
			{"GET", "/businesses/90129/payers/C1/accounts/", r.tok, 200, "", ""},
			{"PATCH", "/businesses/90129/payers/C1/schedules/payments/5", r.tok, 404, "NotFound", "payers/C1/schedules/payments/5"},
			{"GET", "/businesses/90129/payers/C1/schedules/payments", r.tok, ifInferred(200, 404), "", ""},
			{"GET", "/businesses/90129/payers/C1/schedules/payments/5", r.tok, 404, "", ""},
			{"GET", "/businesses/90129/transactions/bank-payments/?reference=X", r.tok, 404, "", ""},
			{"GET", "/businesses/90129/transactions/card-payments?reference=X", r.tok, 404, "", ""},
			{"GET", "/businesses/90129/transactions/card-payments/7/refunds", r.tok, 404, "NotFound", "transactions/card-payments/7/refunds"},
			{"POST", "/businesses/90129/transactions/cheque-payments/7/refunds", r.tok, 404, "NotFound", "transactions/cheque-payments/7/refunds"},
			{"POST", "/businesses/90129/transactions/card-payments/7/refunds", r.tok, 404, "InvalidTransaction", "TransactionId"},
		} {
			status, body := r.do(c.method, c.path, "", c.tok)
			if status != c.status || (c.code != "" && (body["errorCode"] != c.code || body["errorDetail"] != c.detail)) {
				t.Errorf("inferred=%v %s %s: %d %v; want %d %s %q", inferred, c.method, c.path, status, body, c.status, c.code, c.detail)
			}
		}
	}
}
