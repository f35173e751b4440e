package charge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// Run sources.
const (
	SourceAuto   = "auto"
	SourceAdmin  = "admin"
	SourceCLI    = "cli"
	SourceRetry  = "retry"
	SourcePortal = "portal"
)

// CodeNotSent marks a decline that never reached the gateway: safe to charge
// again with a new attempt and a new reference.
const CodeNotSent = "NOT_SENT"

// RunOptions say who runs a batch and how hard it may push the gateway.
type RunOptions struct {
	Source    string // auto | admin | cli
	StartedBy string
	// Concurrency of gateway calls; 0 → the charge_concurrency setting.
	Concurrency int
	// RateLimit in gateway calls per second; 0 → the gateway_rate_limit
	// setting; negative → unlimited.
	RateLimit float64
	// DryRun plans and returns the preview without charging or writing.
	DryRun bool
	// OnProgress, if set, is called with the counters as they change
	// (at most every ProgressEvery) and once at the end.
	OnProgress func(store.RunProgress)
	// OnStart, if set, is called with the run id once the run row exists.
	OnStart func(runID int64)
}

// RunResult is what a run did.
type RunResult struct {
	RunID    int64
	Status   string // done | cancelled | failed (dry run: "preview")
	Progress store.RunProgress
	Preview  Preview
	Duration time.Duration
}

// progress counts a run's outcomes; safe for the run's workers.
type progress struct {
	mu    sync.Mutex
	p     store.RunProgress
	lines []store.LogLine
	dirty bool
}

func (pr *progress) add(a *store.ChargeAttempt, skip string, line store.LogLine) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.p.Done++
	pr.dirty = true
	if line.Line != "" {
		pr.lines = append(pr.lines, line)
	}
	if a == nil {
		pr.p.Skipped++
		return
	}
	switch a.State {
	case store.StateApproved, store.StateRecorded:
		pr.p.Approved++
		pr.p.AmountApproved += a.Amount
	case store.StatePending:
		pr.p.Pending++
		pr.p.AmountPending += a.Amount
	case store.StateDeclined:
		pr.p.Declined++
		pr.p.AmountDeclined += a.Amount
	default:
		pr.p.Unknown++
		pr.p.AmountUnkn += a.Amount
	}
}

func (pr *progress) take() (store.RunProgress, []store.LogLine, bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	l, d := pr.lines, pr.dirty
	pr.lines, pr.dirty = nil, false
	return pr.p, l, d
}

// Run plans the filters and charges every planned item, at most
// Concurrency at a time and RateLimit per second. Cancelling ctx stops new
// charges; requests already sent are waited for, so every row ends in a
// state that is true.
func (e *Engine) Run(ctx context.Context, f Filters, ro RunOptions) (*RunResult, error) {
	start := time.Now()
	if ro.Source == "" {
		ro.Source = SourceCLI
	}
	if f.Mode == "" {
		f.Mode = ModeInvoices
	}
	pv, err := e.Preview(ctx, f)
	if err != nil {
		return nil, err
	}
	if ro.DryRun {
		return &RunResult{Status: "preview", Preview: pv, Progress: store.RunProgress{Total: pv.Count,
			Skipped: len(pv.Skipped), AmountPlanned: pv.DueSum}, Duration: time.Since(start)}, nil
	}
	mode := f.Mode
	if mode == ModeProformas {
		mode = ModeInvoices // the run row knows invoices|balance|single; the filters keep the detail
	}
	dbctx := context.WithoutCancel(ctx)
	runID, err := e.db.CreateRun(dbctx, store.ChargeRun{Source: ro.Source, Mode: mode, FiltersJSON: f.JSON(),
		StartedBy: ro.StartedBy}, e.now())
	if err != nil {
		return nil, err
	}
	if ro.OnStart != nil {
		ro.OnStart(runID)
	}
	log := e.log.With(zap.Int64("run_id", runID), zap.String("source", ro.Source))
	log.Info("charge run started", zap.Int("planned", pv.Count), zap.Int("skipped", len(pv.Skipped)),
		zap.String("due_sum", money.Amount(pv.DueSum).String()))

	pr := &progress{}
	pr.p.Total = pv.Count
	pr.p.AmountPlanned = pv.DueSum
	var skipLines []store.LogLine
	for _, it := range pv.Skipped {
		skipLines = append(skipLines, store.LogLine{Section: store.LogError,
			Line: fmt.Sprintf("%s - Customer id : %d - skipped: %s", it.Label(), it.CustomerID, it.Skip)})
	}
	if err := e.db.AddRunLines(dbctx, runID, skipLines); err != nil {
		log.Warn("charge run: cannot write skip lines", zap.Error(err))
	}
	flush := func() {
		p, lines, dirty := pr.take()
		if !dirty {
			return
		}
		if err := e.db.AddRunLines(dbctx, runID, lines); err != nil {
			log.Warn("charge run: cannot write log lines", zap.Error(err))
		}
		if err := e.db.SaveRunProgress(dbctx, runID, p); err != nil {
			log.Warn("charge run: cannot save progress", zap.Error(err))
		}
		if ro.OnProgress != nil {
			ro.OnProgress(p)
		}
	}
	stopFlush := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		t := time.NewTicker(e.opts.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				flush()
			case <-stopFlush:
				return
			}
		}
	}()

	conc := ro.Concurrency
	if conc <= 0 {
		conc = e.set.ChargeConcurrency
	}
	lim := e.limiter(ro.RateLimit, conc)
	sem := make(chan struct{}, conc)
	rr := e.newRereads(ctx, log, pv.Items, conc)
	var wg sync.WaitGroup
	var crashErr error
	var crashOnce sync.Once
	cancelled, stopped := false, false
dispatch:
	for _, it := range pv.Items {
		if e.stopping() {
			stopped = true
			break dispatch
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			cancelled = true
			break dispatch
		case <-e.opts.Stopping:
			stopped = true
			break dispatch
		}
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				<-sem
				cancelled = true
				break dispatch
			}
		}
		if ctx.Err() != nil || e.stopping() {
			<-sem
			cancelled, stopped = ctx.Err() != nil, ctx.Err() == nil
			break dispatch
		}
		rr.reach(it)
		wg.Add(1)
		go func(it Item) {
			defer wg.Done()
			defer func() { <-sem }()
			a, skip, err := e.chargeRead(ctx, runID, it, nil, rr)
			if errors.Is(err, ErrCrashed) {
				crashOnce.Do(func() { crashErr = err })
				return
			}
			pr.add(a, skip, e.itemLine(it, a, skip, err))
		}(it)
	}
	wg.Wait()
	rr.wait()
	close(stopFlush)
	<-flushed
	flush()
	p, _, _ := pr.take()
	status, msg := "done", ""
	switch {
	case crashErr != nil:
		// A simulated crash leaves the run as a dead process would: running.
		return &RunResult{RunID: runID, Status: "crashed", Progress: p, Preview: pv, Duration: time.Since(start)}, crashErr
	case cancelled:
		status, msg = "cancelled", fmt.Sprintf("cancelled after %d of %d", p.Done, p.Total)
	case stopped:
		// Cancelled too, so the next start runs a nightly run again (daemon/catchup.go).
		status, msg = "cancelled", fmt.Sprintf("stopped with the daemon after %d of %d; the charges under way finished", p.Done, p.Total)
		log.Warn("charge run stopped: the daemon is stopping", zap.Int("done", p.Done), zap.Int("total", p.Total))
	}
	if err := e.db.FinishRun(dbctx, runID, status, p, msg, e.now()); err != nil {
		return nil, err
	}
	log.Info("charge run finished", zap.String("status", status), zap.Int("done", p.Done),
		zap.Int("approved", p.Approved), zap.Int("pending", p.Pending), zap.Int("declined", p.Declined),
		zap.Int("unknown", p.Unknown), zap.Int("skipped", p.Skipped))
	if ro.OnProgress != nil {
		ro.OnProgress(p)
	}
	return &RunResult{RunID: runID, Status: status, Progress: p, Preview: pv, Duration: time.Since(start)}, nil
}

// limiter paces gateway calls to r per second with bursts of up to burst
// (the run's concurrency); nil means no limit.
func (e *Engine) limiter(r float64, burst int) *rate.Limiter {
	if r == 0 {
		r = float64(e.set.GatewayRateLimit)
	}
	if r <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(r), max(1, burst))
}

func (e *Engine) itemLine(it Item, a *store.ChargeAttempt, skip string, err error) store.LogLine {
	head := fmt.Sprintf("Work with %s - Customer id : %d", it.Label(), it.CustomerID)
	switch {
	case err != nil:
		return store.LogLine{Section: store.LogError, Line: fmt.Sprintf("%s - error: %v", head, err)}
	case a == nil:
		return store.LogLine{Section: store.LogError, Line: fmt.Sprintf("%s - skipped: %s", head, skip)}
	}
	line := fmt.Sprintf("%s - Amount: %s %s - ref %s - %s", head, money.Amount(a.Amount), a.Currency, a.Reference, a.State)
	if a.GatewayID != "" {
		line += " - gateway id " + a.GatewayID
	}
	if a.Fee > 0 {
		line += " - fee " + money.Amount(a.Fee).String()
	} else {
		line += " - No fee"
	}
	if a.State == store.StateDeclined {
		line += fmt.Sprintf(" - %s %s %s", a.Reason, a.Code, a.Message)
		return store.LogLine{Section: store.LogError, Line: line}
	}
	return store.LogLine{Section: store.LogOutput, Line: line}
}

// currentDue re-reads the document from Splynx right before charging: only
// a not_paid invoice is charged, and only its current due. The run's
// batched re-read answers it when it can (reread.go); else one GET does.
func (e *Engine) currentDue(ctx context.Context, it Item, rr *rereads) (int64, string, error) {
	switch it.Kind {
	case store.KindInvoice, store.KindProforma:
		d, ok := rr.doc(ctx, it)
		if !ok {
			var err error
			if d, err = e.getDoc(ctx, it); err != nil {
				if splynx.IsNotFound(err) {
					return 0, it.Kind + " no longer exists in Splynx", nil
				}
				return 0, "", fmt.Errorf("re-read %s %d: %w", it.Kind, it.InvoiceID+it.ProformaID, err)
			}
		}
		amount, skip := d.judge(it.Kind)
		return amount, skip, nil
	case store.KindBalance:
		b, err := e.sp.GetCustomerBilling(ctx, it.CustomerID)
		if err != nil {
			return 0, "", fmt.Errorf("re-read balance of customer %d: %w", it.CustomerID, err)
		}
		if d := int64(b.Deposit); d < 0 {
			return -d, "", nil
		}
		return 0, "balance is no longer negative in Splynx", nil
	case store.KindRefill:
		if it.Amount <= 0 {
			return 0, "", fmt.Errorf("refill of customer %d: amount %d is not positive", it.CustomerID, it.Amount)
		}
		return it.Amount, "", nil
	}
	return 0, "", fmt.Errorf("unknown charge kind %q", it.Kind)
}

// fees returns the service fee plus its VAT on amount when
// add_fee_to_request is on: the customer is charged the fee with the
// document and it is booked as a Splynx fee transaction, so the payment of
// document + fee nets out. With add_fee_to_request off (the default) the
// customer is charged the document only and the merchant bears any fee.
func (e *Engine) fees(amount int64) int64 {
	if e.set.ServiceFeePercent <= 0 || !e.set.AddFeeToRequest {
		return 0
	}
	fee := money.Amount(amount).Percent(e.set.ServiceFeePercent)
	vat := fee.Percent(e.set.FeeVATPercent)
	return int64(fee + vat)
}

func (e *Engine) description(it Item) string {
	switch it.Kind {
	case store.KindInvoice:
		return "Invoice " + it.Number
	case store.KindProforma:
		return "Proforma " + it.Number
	case store.KindBalance:
		return "Outstanding balance"
	}
	return "Balance refill"
}

// chargeItem charges one item: re-read, claim, send, store. It returns the
// attempt as stored, or a skip reason. prev is the declined attempt a retry
// follows.
func (e *Engine) chargeItem(ctx context.Context, runID int64, it Item, prev *store.ChargeAttempt) (*store.ChargeAttempt, string, error) {
	return e.chargeRead(ctx, runID, it, prev, nil)
}

// chargeRead is chargeItem deciding on the run's batched re-read rr (nil:
// one GET of the document).
func (e *Engine) chargeRead(ctx context.Context, runID int64, it Item, prev *store.ChargeAttempt, rr *rereads) (*store.ChargeAttempt, string, error) {
	amount, skip, err := e.currentDue(ctx, it, rr)
	if err != nil || skip != "" {
		return nil, skip, err
	}
	dbctx := context.WithoutCancel(ctx)
	m, err := e.db.ActiveMethod(dbctx, it.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "customer payment account is empty (no active saved payment method)", nil
	}
	if err != nil {
		return nil, "", err
	}
	fee := e.fees(amount)
	a := &store.ChargeAttempt{ChargeKey: it.ChargeKey, Kind: it.Kind, InvoiceID: it.InvoiceID, ProformaID: it.ProformaID,
		ItemNumber: it.Number, CustomerID: it.CustomerID, Amount: amount + fee, Fee: fee, Currency: e.set.Currency,
		MethodID: m.ID, MethodKind: m.Kind, Reference: NewReference(), AttemptNo: 1, RunID: runID}
	if prev != nil {
		a.AttemptNo, a.RetryOf = prev.AttemptNo+1, prev.ID
	}
	err = e.db.Write(dbctx, func(tx *sql.Tx) error {
		if err := store.InsertAttempt(dbctx, tx, a, e.now()); err != nil {
			return err
		}
		if prev != nil {
			return store.MarkRetried(dbctx, tx, prev.ID)
		}
		return nil
	})
	if errors.Is(err, store.ErrLiveAttempt) {
		return nil, "another attempt of this charge is live", nil
	}
	if errors.Is(err, store.ErrStateChanged) {
		return nil, "retry already made", nil
	}
	if err != nil {
		return nil, "", err
	}
	e.own(a.ID)
	defer e.release(a.ID)
	if h := e.opts.Hooks.AfterCreate; h != nil {
		if err := h(*a); err != nil {
			return nil, "", e.crashed(err)
		}
	}
	if ctx.Err() != nil {
		err := e.db.TransitionAttempt(dbctx, a.ID, []store.AttemptState{store.StateCreated}, store.StateDeclined,
			store.Change{Reason: string(gateways.ReasonOther), Code: CodeNotSent, Message: "run cancelled before sending",
				Resolved: true}, e.now(), nil)
		if err != nil {
			return nil, "", err
		}
		a.State = store.StateDeclined
		return a, "", nil
	}
	if err := e.db.TransitionAttempt(dbctx, a.ID, []store.AttemptState{store.StateCreated}, store.StateSending,
		store.Change{Sent: true}, e.now(), nil); err != nil {
		return nil, "", err
	}
	a.State = store.StateSending
	if h := e.opts.Hooks.BeforeSend; h != nil {
		if err := h(*a); err != nil {
			return nil, "", e.crashed(err)
		}
	}
	req := gateways.ChargeRequest{Reference: a.Reference, Method: methodOf(m), PayerRef: m.PayerRef, Amount: a.Amount,
		Currency: a.Currency, Description: e.description(it), Operator: e.opts.Operator}
	// The request is not cancelled with the run: once it may be on the wire
	// its answer is what makes the row true.
	o, err := e.gw.Charge(dbctx, req)
	if err != nil {
		o = gateways.Outcome{Status: gateways.Declined, Reference: a.Reference, Reason: gateways.ReasonInvalidRequest,
			Code: CodeNotSent, Message: err.Error()}
	}
	if h := e.opts.Hooks.AfterGateway; h != nil {
		if err := h(*a, o); err != nil {
			return nil, "", e.crashed(err)
		}
	}
	got, err := e.apply(dbctx, *a, []store.AttemptState{store.StateSending, store.StateUnknown}, o)
	if err != nil {
		return nil, "", err
	}
	return &got, "", nil
}

// hardReasons break the saved method: charging it again cannot work.
var hardReasons = map[gateways.Reason]bool{
	gateways.ReasonInvalidAccount: true, gateways.ReasonAccountClosed: true, gateways.ReasonAuthorityRevoked: true,
	gateways.ReasonPayerDeceased: true, gateways.ReasonInvalidCard: true, gateways.ReasonExpiredCard: true,
	gateways.ReasonLostOrStolen: true, gateways.ReasonFraud: true, gateways.ReasonPayerInactive: true,
}

func (e *Engine) backoff(checks int) time.Duration {
	d := 30 * time.Second
	for i := 0; i < checks && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// apply stores a gateway outcome for attempt a, which must be in one of
// from. Side effects (write-back queue, method status, retry date) commit in
// the same transaction. A lost guard re-reads the row: if someone else
// already stored the same final answer, that is success.
func (e *Engine) apply(ctx context.Context, a store.ChargeAttempt, from []store.AttemptState, o gateways.Outcome) (store.ChargeAttempt, error) {
	now := e.now()
	c := store.Change{GatewayID: o.GatewayID, SecondaryID: o.SecondaryID, Reason: string(o.Reason), Code: o.Code,
		Message: gateways.ScrubDigits(o.Message), Review: o.Review}
	var to store.AttemptState
	var then func(tx *sql.Tx) error
	switch o.Status {
	case gateways.Approved:
		to, c.Resolved = store.StateApproved, true
		then = func(tx *sql.Tx) error { return e.queueApproved(ctx, tx, a, now) }
	case gateways.Pending:
		to, c.SettlesBy = store.StatePending, o.SettlesBy
	case gateways.Declined:
		to, c.Resolved, c.Retryable = store.StateDeclined, true, o.Retryable && o.Code != CodeNotSent
		if c.Retryable && a.AttemptNo < e.set.MaxAttempts {
			days := e.set.RetryDays[min(a.AttemptNo-1, len(e.set.RetryDays)-1)]
			c.NextRetryAt = now.AddDate(0, 0, days)
		}
		if !o.Retryable && hardReasons[o.Reason] && a.MethodID != 0 {
			then = func(tx *sql.Tx) error {
				return store.SetMethodStatus(ctx, tx, a.MethodID, store.MethodNeedsUpdate,
					fmt.Sprintf("%s (%s) on %s", o.Reason, o.Code, a.Reference), now)
			}
		}
	default:
		to = store.StateUnknown
		c.NextCheckAt = now.Add(e.backoff(a.Checks))
		if o.Err != nil && c.Message == "" {
			c.Message = gateways.ScrubDigits(o.Err.Error())
		}
		if a.State == store.StateUnknown {
			// Still unknown: only push the next look out.
			return a, e.db.SetNextCheck(ctx, a.ID, store.StateUnknown, c.NextCheckAt, now)
		}
	}
	err := e.db.TransitionAttempt(ctx, a.ID, from, to, c, now, then)
	if errors.Is(err, store.ErrStateChanged) {
		cur, rerr := e.db.GetAttempt(ctx, a.ID)
		if rerr != nil {
			return a, rerr
		}
		if cur.State == to || (to == store.StateApproved && cur.State == store.StateRecorded) {
			return cur, nil
		}
		return cur, err
	}
	if err != nil {
		return a, err
	}
	cur, err := e.db.GetAttempt(ctx, a.ID)
	if err != nil {
		return a, err
	}
	e.log.Info("charge attempt "+string(to), zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference),
		zap.String("charge", a.ChargeKey), zap.Int64("customer_id", a.CustomerID), zap.String("amount", money.Amount(a.Amount).String()),
		zap.String("gateway_id", cur.GatewayID), zap.String("reason", cur.Reason), zap.String("code", cur.Code))
	return cur, nil
}

// queueApproved queues the Splynx work an approved charge owes, in tx.
func (e *Engine) queueApproved(ctx context.Context, tx *sql.Tx, a store.ChargeAttempt, now time.Time) error {
	_, err := e.approvedQueue(ctx, tx, a, now)
	return err
}

// approvedQueue is queueApproved, also saying which other attempt already
// paid the document ("" when this one pays it). That is decided here, in
// the transaction that approves a, so of two attempts of one document whose
// money both arrive, the first approved pays it and the second is
// superseded (its payment goes to the balance), whatever order the gateway
// reported them in.
func (e *Engine) approvedQueue(ctx context.Context, tx *sql.Tx, a store.ChargeAttempt, now time.Time) (string, error) {
	other, err := store.SupersedeIfPaid(ctx, tx, a, now)
	if err != nil {
		return "", err
	}
	if other != "" {
		if err := e.db.Audit(ctx, tx, "charge.superseded", map[string]any{"attempt_id": a.ID, "reference": a.Reference,
			"customer_id": a.CustomerID, "charge": a.ChargeKey, "amount": money.Amount(a.Amount).String(),
			"paid_by": other, "late_settlement": e.set.LateSettlement}); err != nil {
			return "", err
		}
	}
	return other, e.enqueueApproved(ctx, tx, a, now)
}

func (e *Engine) enqueueApproved(ctx context.Context, tx *sql.Tx, a store.ChargeAttempt, now time.Time) error {
	if err := store.Enqueue(ctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxPayment, Amount: a.Amount}, now); err != nil {
		return err
	}
	if a.Fee > 0 {
		return store.Enqueue(ctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxFee, Amount: a.Fee}, now)
	}
	return nil
}
