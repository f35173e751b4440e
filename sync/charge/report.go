package charge

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/store"
)

// PrintPreview writes the preview as a table: per customer (or per
// invoice with all) and the sums.
func PrintPreview(w io.Writer, pv Preview, all bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	if all {
		fmt.Fprintln(tw, "DOCUMENT\tNUMBER\tCUSTOMER\tNAME\tTOTAL\tDUE\tMETHOD\t")
		for _, it := range pv.Items {
			id := it.InvoiceID + it.ProformaID
			fmt.Fprintf(tw, "%s %d\t%s\t%d\t%s\t%s\t%s\t%s\t\n", it.Kind, id, it.Number, it.CustomerID, it.CustomerName,
				money.Amount(it.Total), money.Amount(it.Due), it.Mask)
		}
	} else {
		fmt.Fprintln(tw, "CUSTOMER\tNAME\tCOUNT\tTOTAL\tDUE\tMETHOD\t")
		for _, c := range pv.PerCustomer {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t\n", c.CustomerID, c.Name, c.Count, money.Amount(c.Total),
				money.Amount(c.Due), c.Mask)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "Amount: %d   Total sum: %s   Due sum: %s   Skipped: %d\n", pv.Count, money.Amount(pv.TotalSum),
		money.Amount(pv.DueSum), len(pv.Skipped))
	reasons := map[string]int{}
	for _, s := range pv.Skipped {
		reasons[s.Skip]++
	}
	keys := make([]string, 0, len(reasons))
	for r := range reasons {
		keys = append(keys, r)
	}
	sort.Strings(keys)
	for _, r := range keys {
		fmt.Fprintf(w, "  skipped %d: %s\n", reasons[r], r)
	}
}

// PrintRunTotals writes a run's outcome counts and amounts.
func PrintRunTotals(w io.Writer, r *RunResult) {
	p := r.Progress
	fmt.Fprintf(w, "Run %d %s in %s: %d/%d done\n", r.RunID, r.Status, r.Duration.Round(time.Millisecond), p.Done, p.Total)
	fmt.Fprintf(w, "  approved %d (%s)  pending %d (%s)  declined %d (%s)  unknown %d (%s)  skipped %d\n",
		p.Approved, money.Amount(p.AmountApproved), p.Pending, money.Amount(p.AmountPending), p.Declined,
		money.Amount(p.AmountDeclined), p.Unknown, money.Amount(p.AmountUnkn), p.Skipped)
}

// PrintRuns writes the charge history: one line per run, newest first.
func PrintRuns(w io.Writer, runs []store.ChargeRun) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTARTED\tSOURCE\tSTATUS\tDONE\tAPPROVED\tPENDING\tDECLINED\tUNKNOWN\tSKIPPED\tAPPROVED SUM\t")
	for _, r := range runs {
		p := r.Progress
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", r.ID, r.StartedAt.Format("2006-01-02 15:04"),
			r.Source, r.Status, p.Done, p.Total, p.Approved, p.Pending, p.Declined, p.Unknown, p.Skipped,
			money.Amount(p.AmountApproved))
	}
	tw.Flush()
}

// PrintAttempts writes attempts as a table.
func PrintAttempts(w io.Writer, as []store.ChargeAttempt) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REFERENCE\tCHARGE\tCUSTOMER\tAMOUNT\tTRY\tSTATE\tREASON\tGATEWAY ID\tSPLYNX PAYMENT\t")
	for _, a := range as {
		reason := a.Reason
		if a.Code != "" {
			reason += " " + a.Code
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%d\t\n", a.Reference, a.ChargeKey, a.CustomerID,
			money.Amount(a.Amount), a.AttemptNo, a.State, reason, a.GatewayID, a.SplynxPaymentID)
	}
	tw.Flush()
}

// RunLogText renders a run's downloadable log like Splynx's charge
// history log: an ERRORS section and an OUTPUT section.
func RunLogText(w io.Writer, r store.ChargeRun, errs, out []string) {
	fmt.Fprintf(w, "Charge run %d (%s, %s) started %s by %s, status %s\n", r.ID, r.Source, r.Mode,
		r.StartedAt.Format(time.RFC3339), r.StartedBy, r.Status)
	fmt.Fprintf(w, "Filters: %s\n\nERRORS\n", r.FiltersJSON)
	for _, l := range errs {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "\nOUTPUT")
	for _, l := range out {
		fmt.Fprintln(w, l)
	}
}
