package splynx_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

func TestReferenceData(t *testing.T) {
	e := newEnv(t, splynxsim.Options{IDsAsNumbers: true})
	ctx := context.Background()
	for _, m := range []splynxsim.PaymentMethod{{Name: "Cash", IsActive: true}, {Name: "Bank transfer", IsActive: true}} {
		e.sim.AddPaymentMethod(m)
	}
	e.sim.AddPartner(splynxsim.Partner{Name: "North"})
	e.sim.AddPartner(splynxsim.Partner{Name: "South"})
	e.sim.AddLocation(splynxsim.Location{Name: "Sydney"})
	e.sim.AddLocation(splynxsim.Location{Name: "Perth"})
	cid := e.sim.AddCustomer(splynxsim.Customer{Login: "c", Name: "C"})
	e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "not_paid", Total: 1500, DateCreated: date(2026, 11, 1)})
	e.sim.AddProforma(splynxsim.Proforma{CustomerID: cid, Status: "paid", Total: 2500, DateCreated: date(2026, 11, 1)})
	c := e.client(t, splynx.AuthAPIKeyToken)
	methods, err := c.ListPaymentMethods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[int64]string{}
	for _, m := range methods {
		names[int64(m.ID)] = m.Name
	}
	if len(methods) != 3 || !slices.Contains(slices.Collect(maps.Values(names)), "Cash") || !slices.Contains(slices.Collect(maps.Values(names)), "Bank transfer") {
		t.Errorf("payment methods %+v", methods)
	}
	id, err := c.CreatePaymentMethod(ctx, splynx.PaymentMethod{Name: "IntegraPay", IsActive: true, Name1: "Gateway txn id"})
	if err != nil {
		t.Fatal(err)
	}
	if methods, _ = c.ListPaymentMethods(ctx); !slices.ContainsFunc(methods, func(m splynx.PaymentMethod) bool {
		return int64(m.ID) == id && m.Name1 == "Gateway txn id" && bool(m.IsActive)
	}) {
		t.Errorf("created method %d not listed: %+v", id, methods)
	}
	partners, err := c.ListPartners(ctx)
	if err != nil || len(partners) < 2 || partners[0].Name == "" {
		t.Errorf("partners %+v %v", partners, err)
	}
	locations, err := c.ListLocations(ctx)
	if err != nil || len(locations) < 2 {
		t.Errorf("locations %+v %v", locations, err)
	}
	if err := c.CreateAdditionalField(ctx, "customers", splynx.AdditionalField{Name: "integrapay_payer", Title: "IntegraPay payer", Type: "string"}); err != nil {
		t.Fatal(err)
	}
	afs, err := c.ListAdditionalFields(ctx, "customers")
	if err != nil || !slices.ContainsFunc(afs, func(f splynx.AdditionalField) bool {
		return f.Name == "integrapay_payer" && f.Title == "IntegraPay payer"
	}) {
		t.Errorf("additional fields %+v %v", afs, err)
	}
	n := 0
	for pf, err := range c.ListProformas(ctx, splynx.Search{}) {
		if err != nil {
			t.Fatal(err)
		}
		if pf.Total == 0 {
			t.Errorf("proforma %+v", pf)
		}
		n++
	}
	if cnt, err := c.CountProformas(ctx, splynx.Search{}); err != nil || cnt != n || n != 2 {
		t.Errorf("proformas listed %d counted %d %v", n, cnt, err)
	}
}

func TestModulesList(t *testing.T) {
	e := newEnv(t, splynxsim.Options{IDsAsNumbers: true})
	ctx := context.Background()
	c := e.client(t, splynx.AuthAPIKeyToken)
	m := splynx.Module{Module: "splynx_addon_integrapay", Title: "IntegraPay", Root: `controllers\admin\FinanceController`,
		Type: "simple", Icon: "fa-credit-card", Path: "integrapay", Status: "enabled"}
	if err := c.CreateModule(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateModule(ctx, m); !splynx.IsValidation(err) {
		t.Errorf("duplicate module: %v", err)
	}
	got, err := c.GetModule(ctx, m.Module)
	if err != nil || got != m {
		t.Errorf("got %+v %v\nwant %+v", got, err, m)
	}
	if err := c.UpdateModule(ctx, m.Module, map[string]any{"status": "disabled"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListModules(ctx)
	if err != nil || len(list) != 1 || list[0].Status != "disabled" {
		t.Errorf("modules %+v %v", list, err)
	}
	if _, err := c.GetModule(ctx, "nope"); !splynx.IsNotFound(err) {
		t.Errorf("unknown module: %v", err)
	}
}

func TestModuleConfig(t *testing.T) {
	const module = "splynx_addon_integrapay"
	for _, shape := range []string{"flat", "nested"} {
		t.Run(shape, func(t *testing.T) {
			e := newEnv(t, splynxsim.Options{ConfigShape: shape})
			ctx := context.Background()
			e.sim.SetModuleConfig(module, 0, map[string]string{"currency": "AUD", "payment_method_card": "3", "retry_days": "3,7"})
			e.sim.SetModuleConfig(module, 2, map[string]string{"payment_method_card": "7"})
			c := e.client(t, splynx.AuthAPIKeyToken)
			def, err := c.GetModuleConfig(ctx, module, 0)
			if err != nil {
				t.Fatal(err)
			}
			if def["currency"] != "AUD" || def["payment_method_card"] != "3" || def["retry_days"] != "3,7" {
				t.Errorf("default partner %v", def)
			}
			p2, err := c.GetModuleConfig(ctx, module, 2)
			if err != nil {
				t.Fatal(err)
			}
			if p2["payment_method_card"] != "7" || p2["currency"] != "AUD" {
				t.Errorf("partner 2 %v", p2)
			}
			if err := c.PutModuleConfig(ctx, module, 0, map[string]string{"auto_charge": "1"}); err != nil {
				t.Fatal(err)
			}
			if after, err := c.GetModuleConfig(ctx, module, 0); err != nil || after["auto_charge"] != "1" || after["currency"] != "AUD" {
				t.Errorf("after put %v %v", after, err)
			}
		})
	}
}
