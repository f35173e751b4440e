package setup

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/splynx"
)

// InstallResult counts what InstallAddon did.
type InstallResult struct {
	Created []string // "payment method IntegraPay card (id 7)", ...
	Kept    []string // already present, left alone
}

// InstallAddon creates in Splynx what the add-on needs and is missing: its
// payment methods, the module config defaults (payment method ids included)
// and its customer additional fields. It checks before creating, so a
// second run creates nothing. Then it writes the steps the Splynx API
// cannot do to w. Nothing that exists is changed: an admin's edits win.
func InstallAddon(ctx context.Context, c *splynx.Client, a Addon, w io.Writer) (InstallResult, error) {
	var res InstallResult
	created := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		res.Created = append(res.Created, s)
		fmt.Fprintf(w, "created  %s\n", s)
	}
	kept := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		res.Kept = append(res.Kept, s)
		fmt.Fprintf(w, "exists   %s\n", s)
	}

	// The module config first: it may already name payment methods that
	// an admin chose, and then none are created.
	module, err := c.GetModuleConfig(ctx, a.Module, 0)
	moduleMissing := splynx.IsNotFound(err)
	if err != nil && !moduleMissing {
		return res, fmt.Errorf("install-addon: read module config %s: %w", a.Module, err)
	}
	if module == nil {
		module = map[string]string{}
	}

	methods, err := c.ListPaymentMethods(ctx)
	if err != nil {
		return res, fmt.Errorf("install-addon: list payment methods: %w", err)
	}
	byID := map[int64]splynx.PaymentMethod{}
	byName := map[string]splynx.PaymentMethod{}
	for _, m := range methods {
		byID[int64(m.ID)] = m
		byName[strings.ToLower(strings.TrimSpace(m.Name))] = m
	}
	missing := map[string]string{} // module settings to write
	for _, pm := range a.paymentMethods() {
		if id, err := strconv.ParseInt(strings.TrimSpace(module[pm.Setting]), 10, 64); err == nil && id > 0 {
			if m, ok := byID[id]; ok {
				kept("payment method %q (id %d, module setting %s)", m.Name, id, pm.Setting)
				continue
			}
			// A configured id that Splynx does not know is an admin's
			// mistake to fix, not ours to overwrite; doctor names it.
			kept("module setting %s=%d (no such payment method in Splynx: run doctor)", pm.Setting, id)
			continue
		}
		if m, ok := byName[strings.ToLower(pm.Name)]; ok {
			kept("payment method %q (id %d)", m.Name, int64(m.ID))
			missing[pm.Setting] = strconv.FormatInt(int64(m.ID), 10)
			continue
		}
		id, err := c.CreatePaymentMethod(ctx, splynx.PaymentMethod{
			Name: pm.Name, IsActive: true,
			Name1: pm.Fields[0], Name2: pm.Fields[1], Name3: pm.Fields[2], Name4: pm.Fields[3], Name5: pm.Fields[4],
		})
		if err != nil {
			return res, fmt.Errorf("install-addon: create payment method %q: %w", pm.Name, err)
		}
		created("payment method %q (id %d)", pm.Name, id)
		missing[pm.Setting] = strconv.FormatInt(id, 10)
	}

	for k, v := range a.defaults() {
		if strings.TrimSpace(module[k]) == "" {
			missing[k] = v
		}
	}
	switch {
	case moduleMissing:
		// Splynx keeps a module's config only once the module exists, and
		// the API cannot create modules.
		fmt.Fprintf(w, "missing  module %s: add it in Config → Integrations → Modules list, then run install-addon again\n", a.Module)
	case len(missing) > 0:
		if err := c.PutModuleConfig(ctx, a.Module, 0, missing); err != nil {
			return res, fmt.Errorf("install-addon: write module config %s: %w", a.Module, err)
		}
		keys := make([]string, 0, len(missing))
		for k := range missing {
			keys = append(keys, k+"="+missing[k])
		}
		sort.Strings(keys)
		created("module config %s settings: %s", a.Module, strings.Join(keys, ", "))
	default:
		kept("module config %s defaults", a.Module)
	}

	have := map[string]map[string]bool{}
	for _, af := range a.additionalFields() {
		if have[af.Module] == nil {
			fields, err := c.ListAdditionalFields(ctx, af.Module)
			if err != nil {
				return res, fmt.Errorf("install-addon: list additional fields of %s: %w", af.Module, err)
			}
			have[af.Module] = map[string]bool{}
			for _, f := range fields {
				have[af.Module][f.Name] = true
			}
		}
		if have[af.Module][af.Field.Name] {
			kept("additional field %s/%s", af.Module, af.Field.Name)
			continue
		}
		if err := c.CreateAdditionalField(ctx, af.Module, af.Field); err != nil {
			return res, fmt.Errorf("install-addon: create additional field %s/%s: %w", af.Module, af.Field.Name, err)
		}
		have[af.Module][af.Field.Name] = true
		created("additional field %s/%s (%s)", af.Module, af.Field.Name, af.Field.Type)
	}

	fmt.Fprintf(w, "\n%d created, %d already there.\n\n", len(res.Created), len(res.Kept))
	ManualSteps(w, a)
	if moduleMissing {
		return res, fmt.Errorf("install-addon: %w", ErrModuleMissing{Module: a.Module})
	}
	return res, nil
}

// ErrModuleMissing means the add-on's module is not in Splynx's modules
// list, so its config could not be written.
type ErrModuleMissing struct{ Module string }

func (e ErrModuleMissing) Error() string {
	return "module " + e.Module + " is not in Config → Integrations → Modules list; add it there and run install-addon again"
}

// ManualSteps writes what an admin has to do by hand because the Splynx
// API has no call for it.
func ManualSteps(w io.Writer, a Addon) {
	fmt.Fprintf(w, "Steps the Splynx API cannot do:\n\n")
	fmt.Fprintf(w, "1. API key permissions. In Administration → API keys, edit the key in\n")
	fmt.Fprintf(w, "   %s (SPLYNXPAY_SPLYNX_API_KEY) and allow exactly these:\n", a.envFile())
	for _, p := range Permissions() {
		fmt.Fprintf(w, "     %-45s %s\n", p.Controller, strings.Join(p.Actions, ", "))
	}
	fmt.Fprintf(w, "\n2. Gateway settings. In %s, fill in\n", a.modulesListPlace())
	switch a.Kind {
	case config.IntegraPay:
		fmt.Fprintf(w, "   integrapay_username, integrapay_password, integrapay_business_id and integrapay_environment.\n")
	default:
		fmt.Fprintf(w, "   ippay_terminal_id and ippay_environment, and ask IPpay to whitelist this\n")
		fmt.Fprintf(w, "   server's public IP. One terminal takes cards and ACH; set\n")
		fmt.Fprintf(w, "   ippay_ach_terminal_id only if IPpay issued a separate ACH terminal.\n")
	}
	fmt.Fprintf(w, "\n3. Entry points. In %s → Entry points, enable\n", a.modulesListPlace())
	fmt.Fprintf(w, "   \"Entry points status for portal\" and add:\n")
	for _, e := range a.EntryPoints() {
		where := "root " + e.Root
		if e.Type == "action_link" {
			where = "model " + e.Model
		}
		fmt.Fprintf(w, "     %-32s place %-6s type %-11s %s, url %s, title %q, icon %s\n",
			e.Name, e.Place, e.Type, where, e.URL, e.Title, e.Icon)
	}
	fmt.Fprintf(w, "   Splynx appends ?item_id=<invoice number> to the action links. For invoice\n")
	fmt.Fprintf(w, "   templates and e-mails, the direct links are\n")
	fmt.Fprintf(w, "     <splynx url>%s/direct-pay-invoice?item_id={{ invoice.number }}\n", a.Prefix)
	fmt.Fprintf(w, "     <splynx url>%s/direct-pay-invoice-by-id?item_id={{ invoice.id }}\n", a.Prefix)
	fmt.Fprintf(w, "     <splynx url>%s/direct-pay-proforma?item_id={{ request.number }}\n", a.Prefix)
	fmt.Fprintf(w, "     <splynx url>%s/direct-pay-proforma-by-id?item_id={{ request.id }}\n", a.Prefix)
	fmt.Fprintf(w, "\n4. nginx. %s proxies %s to %s;\n", a.nginxFile(), a.Prefix, a.ListenAddr)
	fmt.Fprintf(w, "   check that Splynx's server block includes it, then: nginx -t && systemctl reload nginx\n")
	fmt.Fprintf(w, "\n5. Check everything: %s-admin doctor\n", a.Name)
}
