// Package chaos compares the three ledgers of a chaos run: the gateway's
// (what money moved), Splynx's (what payments were written) and the
// daemon's SQLite attempts (what we believe happened). cmd/splynx-sim
// serves the first two as a Ledgers document under -control; the checker
// cmd/splynx-chaos reads the third from the database file after the
// daemon stopped.
package chaos

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways/integrapay/integrapaysim"
	"github.com/splynx-pay/splynx-pay/gateways/ippay"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// Ledgers is what splynx-sim's GET /_sim/ledger answers.
type Ledgers struct {
	Now        time.Time             `json:"now"`
	Payments   []splynxsim.Payment   `json:"splynx_payments"`
	IntegraPay []integrapaysim.Entry `json:"integrapay"`
	IPpay      []ippaysim.Entry      `json:"ippay"`
}

// NewInvoice is one row of splynx-sim's POST /_sim/invoices.
type NewInvoice struct {
	CustomerID int64        `json:"customer_id"`
	Total      money.Amount `json:"total"`
}

// Attempt is one charge_attempts row, as far as the comparison needs it.
type Attempt struct {
	Reference  string
	ChargeKey  string
	State      string
	MethodKind string
	Amount     int64
	Source     string // the source of its run: auto, retry, cli, admin, portal
}

// Figures are one add-on's line of the chaos report. The last five are
// losses: any of them non-zero fails the run.
type Figures struct {
	Addon    string
	Kills    int
	Attempts int
	Approved int // gateway charges that took (or are taking) money
	Settled  int // of those, final at the gateway
	// Waiting are IPpay ACH debits settled at the gateway that the daemon
	// holds pending until ippay_ach_settle_days pass on its own clock:
	// not a loss, the chaos run is shorter than that.
	Waiting    int
	Unresolved int // attempts left created/sending/unknown/approved

	Duplicates     int // extra money-taking gateway charges on one document
	Lost           int // settled at the gateway, no Splynx payment
	Orphans        int // Splynx payment, no settled gateway charge
	Mismatches     int // Splynx payment amount ≠ gateway amount
	SecondPayments int // more than one of our payments on one Splynx document

	Problems []string // one line per loss, for the log

	// Leaks are test card or bank numbers found in the database files,
	// backups or the daemon's log; Backups counts the backups checked and
	// BadBackups those failing integrity_check. Any leak or bad backup
	// fails the run too.
	Leaks      []string
	Scanned    int64
	Backups    int
	BadBackups int

	// Work is the third line (WorkLine), filled in by the checker.
	Work string
	// PageErrors are answers of the daemon's pages that no kill or fault
	// explains (a refused credential, a 500); any fails the run.
	PageErrors []string
}

// sources are the run sources in the order WorkLine prints them.
var sources = []string{"auto", "retry", "cli", "admin", "portal"}

// WorkLine is the third line of an add-on: the attempts by who started
// them (the nightly runs, retries, the charge command, staff pages, the
// customer pages), so a run that never paid through the pages shows it.
func WorkLine(addon string, as []Attempt, pages string) string {
	n := map[string]int{}
	for _, a := range as {
		n[a.Source]++
	}
	parts := make([]string, 0, len(sources))
	for _, s := range sources {
		parts = append(parts, fmt.Sprintf("%s %d", s, n[s]))
	}
	line := fmt.Sprintf("%s: attempts by source: %s", addon, strings.Join(parts, ", "))
	if pages != "" {
		line += "; " + pages
	}
	return line
}

// Losses is the sum of the five loss figures.
func (f Figures) Losses() int {
	return f.Duplicates + f.Lost + f.Orphans + f.Mismatches + f.SecondPayments
}

// Failed says whether the run must exit non-zero.
func (f Figures) Failed() bool {
	return f.Losses() > 0 || len(f.Leaks) > 0 || f.BadBackups > 0 || len(f.PageErrors) > 0
}

// SafetyLine is the second line of an add-on: secrets and backups.
func (f Figures) SafetyLine() string {
	return fmt.Sprintf("%s: card/bank numbers found %d (%d bytes of database, WAL, backups and log scanned); backups %d, failing integrity_check %d",
		f.Addon, len(f.Leaks), f.Scanned, f.Backups, f.BadBackups)
}

// Line is the one-line summary of an add-on.
func (f Figures) Line() string {
	return fmt.Sprintf("%s: kills %d, attempts %d, approved %d, settled %d (ach waiting %d, unresolved %d); "+
		"duplicate charges %d, lost payments %d, orphan payments %d, amount mismatches %d, second payments on one document %d",
		f.Addon, f.Kills, f.Attempts, f.Approved, f.Settled, f.Waiting, f.Unresolved,
		f.Duplicates, f.Lost, f.Orphans, f.Mismatches, f.SecondPayments)
}

// gwCharge is one gateway charge, either gateway's, normalised.
type gwCharge struct {
	ref      string
	amount   int64
	refunded int64
	money    bool // took or is taking money (approved, pending, settled)
	settled  bool // final at the gateway
	ach      bool // IPpay ACH: recorded by the daemon only after its settle days
}

// Compare fills the figures from the ledgers and our attempts. ipp says
// which gateway the add-on uses.
func Compare(addon string, ipp bool, l Ledgers, attempts []Attempt) Figures {
	f := Figures{Addon: addon, Attempts: len(attempts)}
	byRef := make(map[string]Attempt, len(attempts))
	byTx := make(map[string]string, len(attempts))
	for _, a := range attempts {
		byRef[a.Reference] = a
		byTx[ippay.TransactionID(a.Reference)] = a.Reference
		switch a.State {
		case "created", "sending", "unknown", "approved":
			f.Unresolved++
		}
	}
	var charges []gwCharge
	if ipp {
		for _, e := range l.IPpay {
			if e.Type != "SALE" && e.Type != "CHECK" {
				continue
			}
			ref, ok := byTx[e.TransactionID]
			if !ok {
				ref = "ippay:" + e.TransactionID // made by nobody we know
			}
			c := gwCharge{ref: ref, amount: e.Amount, refunded: e.Refunded, ach: e.Type == "CHECK"}
			switch e.State {
			case "settled":
				c.money, c.settled = true, true
			case "approved", "pending":
				c.money = true
				c.settled = e.Type == "SALE" // a card sale is final when approved
			}
			charges = append(charges, c)
		}
	} else {
		for _, e := range l.IntegraPay {
			if e.Kind == "refund" {
				continue
			}
			ref := e.Reference
			if _, ok := byRef[ref]; !ok {
				ref = "integrapay:" + e.TransactionID + e.ScheduledPaymentID + ":" + e.Reference
			}
			c := gwCharge{ref: ref, amount: e.Amount, refunded: e.Refunded}
			switch e.Status {
			case "S":
				c.money, c.settled = true, true
			case "P", "C", "SCHEDULED":
				c.money = true
			}
			charges = append(charges, c)
		}
	}

	ours := map[string][]splynxsim.Payment{}
	perDoc := map[string]int{}
	for _, p := range l.Payments {
		if !strings.HasPrefix(p.Field2, "SP") || p.Amount <= 0 {
			continue
		}
		ours[p.Field2] = append(ours[p.Field2], p)
		doc := fmt.Sprintf("invoice:%d", p.InvoiceID)
		if p.InvoiceID == 0 {
			doc = fmt.Sprintf("proforma:%d", p.RequestID)
		}
		if p.InvoiceID != 0 || p.RequestID != 0 {
			perDoc[doc]++
		}
	}
	problem := func(format string, args ...any) { f.Problems = append(f.Problems, fmt.Sprintf(format, args...)) }

	settled := map[string]gwCharge{}
	docCharges := map[string][]string{}
	for _, c := range charges {
		if !c.money || c.refunded >= c.amount {
			continue
		}
		f.Approved++
		key := c.ref
		if a, ok := byRef[c.ref]; ok {
			key = a.ChargeKey
		} else {
			problem("gateway charge %s (%s) made by nobody the database knows", c.ref, money.Amount(c.amount))
		}
		docCharges[key] = append(docCharges[key], c.ref)
		if !c.settled {
			continue
		}
		f.Settled++
		settled[c.ref] = c
		ps := ours[c.ref]
		switch {
		case len(ps) == 0 && c.ach && byRef[c.ref].State == "pending":
			f.Waiting++
		case len(ps) == 0:
			f.Lost++
			problem("lost payment: gateway charge %s settled %s, no Splynx payment (attempt %s)", c.ref, money.Amount(c.amount), byRef[c.ref].State)
		default:
			if int64(ps[0].Amount) != c.amount-c.refunded {
				f.Mismatches++
				problem("amount mismatch: charge %s gateway %s, Splynx %s", c.ref, money.Amount(c.amount-c.refunded), ps[0].Amount)
			}
		}
	}
	for key, refs := range docCharges {
		if len(refs) > 1 {
			f.Duplicates += len(refs) - 1
			sort.Strings(refs)
			problem("duplicate charge: %s charged %d times at the gateway (%s)", key, len(refs), strings.Join(refs, ", "))
		}
	}
	for ref, ps := range ours {
		if _, ok := settled[ref]; !ok {
			f.Orphans += len(ps)
			problem("orphan payment: Splynx payment %d of %s names %s, which is not a settled gateway charge", ps[0].ID, ps[0].Amount, ref)
		}
	}
	for doc, n := range perDoc {
		if n > 1 {
			f.SecondPayments += n - 1
			problem("second payment: %s has %d of our payments", doc, n)
		}
	}
	sort.Strings(f.Problems)
	return f
}
