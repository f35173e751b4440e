package charge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/money"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// WriteBackStats counts the Splynx work done.
type WriteBackStats struct {
	Payments int // payments created
	Found    int // payments that already existed (a crash after POST)
	Deleted  int // payments deleted (reversals, full refunds)
	Fees     int // fee transactions
	Refunds  int // negative payments
	Failed   int // items that failed this time (retried later)
}

// maxOutboxTries parks an item as failed after this many tries (about a
// day and a half with the back-off below); a person looks at it then.
const maxOutboxTries = 40

// WriteBack does the Splynx work owed: one payment per approved charge
// (searching by receipt number first, so a crash between the POST and our
// commit never makes a second one), deletions for reversals, fees.
func (e *Engine) WriteBack(ctx context.Context) (WriteBackStats, error) {
	var st WriteBackStats
	// Items a dead process of this host had claimed are taken back now,
	// not when their lease expires.
	if n, err := e.db.ReleaseDeadLeases(ctx, e.now(), func(o string) bool { return leaseDead(o, e.opts.LeaseID) }); err != nil {
		return st, err
	} else if n > 0 {
		e.log.Info("write-back: took back the claims of a dead process", zap.Int("items", n))
	}
	seen := map[int64]bool{}
	for {
		items, err := e.db.DueOutbox(ctx, e.now(), 500)
		if err != nil {
			return st, err
		}
		progressed := false
		for _, it := range items {
			if seen[it.ID] {
				continue
			}
			seen[it.ID] = true
			progressed = true
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			if err := e.doOutbox(ctx, it, &st); err != nil {
				if errors.Is(err, ErrCrashed) {
					return st, err
				}
				st.Failed++
				e.log.Warn("write-back failed", zap.Int64("outbox_id", it.ID), zap.Int64("attempt_id", it.AttemptID),
					zap.String("action", it.Action), zap.Error(err))
				next := e.now().Add(min(time.Minute<<min(it.Tries, 6), time.Hour))
				if ferr := e.db.FailOutbox(context.WithoutCancel(ctx), it.ID, gateways.ScrubDigits(err.Error()), next,
					maxOutboxTries, e.now()); ferr != nil {
					return st, ferr
				}
			}
		}
		if !progressed {
			return st, nil
		}
	}
}

// writeBackAttempt does the pending payment write-back of one attempt now.
func (e *Engine) writeBackAttempt(ctx context.Context, attemptID int64) error {
	items, err := e.db.ListOutbox(ctx, attemptID)
	if err != nil {
		return err
	}
	var st WriteBackStats
	for _, it := range items {
		if it.Action == store.OutboxPayment && it.Status == "pending" {
			return e.doOutbox(ctx, it, &st)
		}
	}
	return nil
}

// outboxLease is how long a write-back pass holds an item: longer than
// any Splynx call it makes.
const outboxLease = 5 * time.Minute

func (e *Engine) doOutbox(ctx context.Context, it store.OutboxItem, st *WriteBackStats) error {
	ok, err := e.db.ClaimOutbox(context.WithoutCancel(ctx), it.ID, e.now(), e.now().Add(outboxLease), e.opts.LeaseID)
	if err != nil || !ok {
		return err // !ok: another pass holds it
	}
	a, err := e.db.GetAttempt(ctx, it.AttemptID)
	if err != nil {
		return err
	}
	switch it.Action {
	case store.OutboxPayment:
		return e.writePayment(ctx, it, a, st)
	case store.OutboxDeletePayment:
		pid := a.SplynxPaymentID
		if pid != 0 {
			if err := e.sp.DeletePayment(ctx, pid); err != nil && !splynx.IsNotFound(err) {
				return fmt.Errorf("delete Splynx payment %d of %s: %w", pid, a.Reference, err)
			}
			st.Deleted++
		}
		return e.complete(ctx, it, pid)
	case store.OutboxFee, store.OutboxDishonourFee:
		return e.writeFee(ctx, it, a, st)
	case store.OutboxRefundPayment:
		return e.writeRefund(ctx, it, a, st)
	case store.OutboxStatement:
		return e.writeStatement(ctx, it, a)
	}
	return fmt.Errorf("unknown write-back action %q", it.Action)
}

// writeFee adds a fee to the customer's Splynx ledger once. Its comment is
// unique to the attempt and the kind of fee, and is looked for first: when
// Splynx applied an earlier POST whose answer was lost (or we stopped before
// noting it), that transaction is the result and no second one is made.
func (e *Engine) writeFee(ctx context.Context, it store.OutboxItem, a store.ChargeAttempt, st *WriteBackStats) error {
	what, tag := "service fee", "service-fee"
	if it.Action == store.OutboxDishonourFee {
		what, tag = "dishonour fee", "dishonour-fee"
	}
	comment := a.Reference + " " + tag
	found, err := e.sp.FindTransactionsByComment(ctx, a.CustomerID, comment)
	if err != nil {
		return fmt.Errorf("search Splynx transactions for the %s of %s: %w", what, a.Reference, err)
	}
	if len(found) > 0 {
		st.Found++
		id := int64(found[0].ID)
		e.log.Info("write-back: fee already in Splynx", zap.String("reference", a.Reference), zap.String("fee", what),
			zap.Int64("transaction_id", id), zap.Int64("customer_id", a.CustomerID))
		return e.complete(ctx, it, id)
	}
	id, err := e.sp.CreateTransaction(ctx, splynx.TransactionCreate{CustomerID: a.CustomerID, Type: "debit",
		Price: money.Amount(it.Amount), Description: fmt.Sprintf("%s %s, %s ref %s", e.gw.Name(), what, a.ItemNumber, a.Reference),
		Category: e.set.FeeTransactionCategory, Date: e.now().In(e.loc), Comment: comment})
	if err != nil {
		return fmt.Errorf("add %s for %s: %w", what, a.Reference, err)
	}
	st.Fees++
	e.log.Info("fee added in Splynx", zap.String("reference", a.Reference), zap.String("fee", what),
		zap.Int64("transaction_id", id), zap.Int64("customer_id", a.CustomerID), zap.Int64("amount_cents", it.Amount))
	return e.complete(ctx, it, id)
}

func (e *Engine) complete(ctx context.Context, it store.OutboxItem, resultID int64) error {
	return e.db.Write(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		return store.CompleteOutbox(ctx, tx, it.ID, resultID, e.now())
	})
}

func (e *Engine) paymentType(kind string) int64 {
	if kind == "bank" {
		return e.set.PaymentMethodBank
	}
	return e.set.PaymentMethodCard
}

func (e *Engine) writePayment(ctx context.Context, it store.OutboxItem, a store.ChargeAttempt, st *WriteBackStats) error {
	switch a.State {
	case store.StateRecorded, store.StateReversed:
		// Already done by someone else (or reversed after recording).
		return e.complete(ctx, it, a.SplynxPaymentID)
	case store.StateApproved:
	default:
		return fmt.Errorf("attempt %s is %s, not approved", a.Reference, a.State)
	}
	receipt := a.Receipt()
	found, err := e.sp.FindPaymentsByReceipt(ctx, receipt)
	if err != nil {
		return fmt.Errorf("search Splynx payments for receipt %s: %w", receipt, err)
	}
	var pid int64
	for _, p := range found {
		if int64(p.CustomerID) == a.CustomerID {
			pid = int64(p.ID)
			break
		}
	}
	if pid != 0 {
		st.Found++
		e.log.Info("write-back: payment already in Splynx", zap.String("reference", a.Reference),
			zap.String("receipt", receipt), zap.Int64("payment_id", pid))
	} else {
		pc := splynx.PaymentCreate{CustomerID: a.CustomerID, PaymentType: e.paymentType(a.MethodKind),
			ReceiptNumber: receipt, Date: e.now().In(e.loc), Amount: money.Amount(a.Amount),
			Comment: fmt.Sprintf("%s ref %s", e.gw.Name(), a.Reference),
			Field1:  a.GatewayID, Field2: a.Reference, Field3: a.SecondaryID, Field4: a.MethodKind}
		switch {
		case a.Superseded:
			// Another attempt paid the document: this money is the
			// customer's, on their balance (late_settlement decides whether
			// it is then refunded).
			pc.Comment = fmt.Sprintf("%s ref %s: taken after %s was paid by another charge; credited to the balance",
				e.gw.Name(), a.Reference, a.ItemNumber)
		case a.Kind == store.KindInvoice:
			pc.InvoiceID = a.InvoiceID
		case a.Kind == store.KindProforma:
			pc.RequestID = a.ProformaID
		}
		if pc.PaymentType == 0 {
			return fmt.Errorf("write payment for %s: setting payment_method_%s is not set", a.Reference, a.MethodKind)
		}
		pid, err = e.sp.CreatePayment(ctx, pc)
		if err != nil {
			return fmt.Errorf("create Splynx payment for %s: %w", a.Reference, err)
		}
		st.Payments++
		if h := e.opts.Hooks.AfterPayment; h != nil {
			if err := h(a, pid); err != nil {
				return e.crashed(err)
			}
		}
	}
	now := e.now()
	err = e.db.TransitionAttempt(context.WithoutCancel(ctx), a.ID, []store.AttemptState{store.StateApproved}, store.StateRecorded,
		store.Change{SplynxPaymentID: pid, GatewayID: a.GatewayID}, now, func(tx *sql.Tx) error {
			if err := store.CompleteOutbox(ctx, tx, it.ID, pid, now); err != nil {
				return err
			}
			if a.Superseded && e.set.LateSettlement == "refund" {
				// Owed until a refund succeeds or a person decides.
				if err := store.SetRefundDue(ctx, tx, a.ID, true, now); err != nil {
					return err
				}
			}
			if e.set.PaymentStatements {
				return store.Enqueue(ctx, tx, store.OutboxItem{AttemptID: a.ID, Action: store.OutboxStatement, Amount: a.Amount}, now)
			}
			return nil
		})
	if err != nil {
		return err
	}
	e.log.Info("charge recorded in Splynx", zap.Int64("attempt_id", a.ID), zap.String("reference", a.Reference),
		zap.Int64("payment_id", pid), zap.Int64("customer_id", a.CustomerID), zap.Bool("superseded", a.Superseded))
	if a.Superseded && e.set.LateSettlement == "refund" {
		// Recorded first, so a failed refund leaves the money visible on
		// the balance rather than nowhere; Settle tries again.
		e.refundLate(ctx, a.ID)
	}
	return nil
}

func (e *Engine) writeRefund(ctx context.Context, it store.OutboxItem, a store.ChargeAttempt, st *WriteBackStats) error {
	receipt := it.Ref
	found, err := e.sp.FindPaymentsByReceipt(ctx, receipt)
	if err != nil {
		return fmt.Errorf("search Splynx payments for refund %s: %w", receipt, err)
	}
	for _, p := range found {
		if int64(p.CustomerID) == a.CustomerID {
			st.Found++
			return e.complete(ctx, it, int64(p.ID))
		}
	}
	pc := splynx.PaymentCreate{CustomerID: a.CustomerID, PaymentType: e.paymentType(a.MethodKind), ReceiptNumber: receipt,
		Date: e.now().In(e.loc), Amount: -money.Amount(it.Amount),
		Comment: fmt.Sprintf("%s refund %s of ref %s", e.gw.Name(), it.Ref, a.Reference),
		Field1:  a.GatewayID, Field2: it.Ref, Field3: a.Reference}
	pid, err := e.sp.CreatePayment(ctx, pc)
	if err != nil {
		return fmt.Errorf("create Splynx refund payment %s: %w", it.Ref, err)
	}
	st.Refunds++
	return e.complete(ctx, it, pid)
}

// writeStatement logs the recorded charge as a payment-statement record in
// the statement "<Gateway> mm/YYYY" (or dd/mm/YYYY), as Splynx's own add-ons do.
func (e *Engine) writeStatement(ctx context.Context, it store.OutboxItem, a store.ChargeAttempt) error {
	now := e.now().In(e.loc)
	title := fmt.Sprintf("%s %s", e.gw.Name(), now.Format("01/2006"))
	if e.set.PaymentStatementGrouping == "day" {
		title = fmt.Sprintf("%s %s", e.gw.Name(), now.Format("02/01/2006"))
	}
	var sid int64
	for s, err := range e.sp.ListBankStatements(ctx, splynx.Search{Main: []splynx.Cond{splynx.Eq("title", title)}}) {
		if err != nil {
			return fmt.Errorf("find payment statement %q: %w", title, err)
		}
		if s.Title == title {
			sid = int64(s.ID)
			break
		}
	}
	if sid == 0 {
		id, err := e.sp.CreateBankStatement(ctx, splynx.BankStatement{Title: title, Handler: e.gw.Name(),
			PaymentType: splynx.ID(e.paymentType(a.MethodKind)), Status: "success", DateTime: splynx.NewDateTime(now)})
		if err != nil {
			return fmt.Errorf("create payment statement %q: %w", title, err)
		}
		sid = id
	}
	rid, err := e.sp.CreateBankStatementRecord(ctx, splynx.BankStatementRecord{BankStatementsProcessID: splynx.ID(sid),
		PaymentDate: splynx.NewDate(now), Amount: splynx.Money(a.Amount), Status: "processed",
		CustomerID: splynx.ID(a.CustomerID), InvoiceID: splynx.ID(a.InvoiceID), RequestID: splynx.ID(a.ProformaID),
		PaymentID: splynx.ID(a.SplynxPaymentID), Comment: fmt.Sprintf("%s ref %s", e.gw.Name(), a.Reference)})
	if err != nil {
		return fmt.Errorf("add payment statement record for %s: %w", a.Reference, err)
	}
	return e.complete(ctx, it, rid)
}
