package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/chaos"
	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/internal/demo"
	"github.com/splynx-pay/splynx-pay/internal/wire"
	"github.com/splynx-pay/splynx-pay/internal/wire/integrapaygw"
	"github.com/splynx-pay/splynx-pay/internal/wire/ippaygw"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
	"github.com/splynx-pay/splynx-pay/sync/charge"
)

// Clearly fake test numbers the simulators accept; the leak scan
// (chaos.Secrets) looks for the same.
const (
	testPAN    = chaos.TestPAN
	testBSB    = chaos.TestBSB
	testAUAcct = chaos.TestAUAcct
	testABA    = chaos.TestABA
	testUSAcct = chaos.TestUSAcct
)

// gatewayFor builds the add-on's real gateway client from its settings
// with the builder the add-on's own main uses.
func gatewayFor(kind config.Addon, s config.Settings) (gateways.Gateway, error) {
	if kind == config.IPpay {
		return ippaygw.New(s, zap.NewNop(), nil)
	}
	return integrapaygw.New(s, zap.NewNop(), nil)
}

// seedMethods saves a card (two in three) or a bank account for customers
// with unpaid invoices, through the real gateway client and charge engine,
// into the database the daemon will open.
func (e *env) seedMethods(ctx context.Context) error {
	kind := config.IntegraPay
	if e.addon == "ippay" {
		kind = config.IPpay
	}
	s, err := config.ParseSettingsFor(kind, demo.ModuleConfig(kind, demo.SimURLs(e.base)), nil)
	if err != nil {
		return err
	}
	gw, err := gatewayFor(kind, s)
	if err != nil {
		return err
	}
	sc, err := splynx.New(splynx.Config{BaseURL: e.base, APIKey: "sim-api-key", APISecret: "sim-api-secret"})
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, e.dbPath(), nil)
	if err != nil {
		return err
	}
	defer db.Close()
	owing, err := db.CustomersOwing(ctx, e.o.Methods)
	if err != nil {
		return err
	}
	type cust struct {
		id   int64
		name string
	}
	var cs []cust
	for _, c := range owing {
		cs = append(cs, cust{id: c.ID, name: c.Name})
	}
	if len(cs) == 0 {
		return fmt.Errorf("no active customer with an unpaid invoice in the mirror")
	}
	policy, err := wire.ChargePolicy(s)
	if err != nil {
		return err
	}
	en := charge.New(db, sc, gw, charge.Options{Policy: policy, Logger: zap.NewNop()})
	country, state := "AU", "NSW"
	if kind == config.IPpay {
		country, state = "US", "TX"
	}
	for i, c := range cs {
		given, family, _ := strings.Cut(c.name, " ")
		if family == "" {
			family = "Customer"
		}
		req := gateways.SaveMethodRequest{
			Payer: gateways.Payer{CustomerID: c.id, GivenName: given, FamilyName: family, Email: fmt.Sprintf("c%d@example.com", c.id),
				Street: "1 Test St", City: "Testville", State: state, PostCode: "2000", Country: country},
			Authorisation: gateways.Authorisation{AcceptedAt: time.Now(), IP: "192.0.2.1"},
		}
		switch {
		case i%3 != 2:
			req.Card = &gateways.CardDetails{Number: testPAN, ExpMonth: 12, ExpYear: 2030, CVV: "123", Holder: c.name}
		case kind == config.IPpay:
			req.Authorisation.SEC = "WEB"
			req.Bank = &gateways.BankDetails{Branch: testABA, AccountNumber: testUSAcct, AccountName: c.name, AccountType: "CHECKING"}
		default:
			req.Bank = &gateways.BankDetails{Branch: testBSB, AccountNumber: testAUAcct, AccountName: c.name, AccountType: "CHEQUE"}
		}
		if _, err := en.SaveMethod(ctx, req, "Chaos test debit authorisation"); err != nil {
			return err
		}
		e.custs = append(e.custs, c.id)
	}
	return nil
}

// fault is one injectable misbehaviour.
type fault struct {
	target, path string
	body         any
	label        string
}

// gatewayFaults and splynxFaults are what a cycle draws from. Counts are
// small: a fault hits the next few matching requests, then disarms.
func (e *env) gatewayFaults() []fault {
	if e.addon == "ippay" {
		return []fault{
			{"ippay", "", map[string]any{"LoseResponse": true, "Count": 1}, "answer lost after the charge applied"},
			{"ippay", "", map[string]any{"Latency": int64(4 * time.Second), "Count": 2}, "slow answer after the charge applied"},
			{"ippay", "", map[string]any{"Drop": true, "Count": 2}, "connection dropped"},
			{"ippay", "", map[string]any{"Status": 503, "Count": 3}, "503"},
			{"ippay", "", map[string]any{"Status": 500, "Count": 1}, "500"},
			{"ippay", "", map[string]any{"Status": 429, "Count": 5}, "429 burst"},
			{"ippay", "", map[string]any{"Malformed": true, "Count": 1}, "garbled answer after the charge applied"},
		}
	}
	return []fault{
		{"integrapay", "", map[string]any{"LoseResponse": true, "Method": "POST", "Times": 1}, "answer lost after the charge applied"},
		{"integrapay", "", map[string]any{"Hold": int64(4 * time.Second), "Method": "POST", "Times": 2}, "slow answer after the charge applied"},
		{"integrapay", "", map[string]any{"Latency": int64(2 * time.Second), "Times": 3}, "slow answers"},
		{"integrapay", "", map[string]any{"Status": 503, "Times": 3}, "503"},
		{"integrapay", "", map[string]any{"Status": 500, "Times": 1}, "500"},
		{"integrapay", "", map[string]any{"Status": 429, "Times": 5}, "429 burst"},
		{"integrapay", "", map[string]any{"Malformed": true, "Method": "POST", "Times": 1}, "garbled answer after the charge applied"},
	}
}

func (e *env) splynxFaults() []fault {
	seed := e.rng.Int64()
	return []fault{
		{"splynx", "admin/finance/payments", map[string]any{"DropAfterRate": 0.5, "Method": "POST", "Times": 2, "Seed": seed}, "payment POST applied, answer lost"},
		{"splynx", "", map[string]any{"ErrorRate": 0.2, "Status": 503, "Times": 5, "Seed": seed}, "Splynx 503"},
		{"splynx", "", map[string]any{"ErrorRate": 0.1, "Status": 500, "Times": 3, "Seed": seed}, "Splynx 500"},
		{"splynx", "", map[string]any{"Latency": int64(300 * time.Millisecond), "Times": 20, "Seed": seed}, "Splynx slow"},
		{"splynx", "", map[string]any{"DropRate": 0.1, "Times": 3, "Seed": seed}, "Splynx connection dropped"},
	}
}

// cycle is one life of the daemon: new invoices, fresh faults on both
// sides, the daemon (and sometimes an admin `charge` beside it) started,
// then SIGKILLed at a random moment.
func (e *env) cycle(ctx context.Context, n int) error {
	if err := e.addInvoices(ctx, 10+e.rng.IntN(30)); err != nil {
		return err
	}
	if err := e.post(ctx, "/_sim/clear", nil, nil); err != nil {
		return err
	}
	var labels []string
	gf, sf := e.gatewayFaults(), e.splynxFaults()
	for range 1 + e.rng.IntN(2) {
		f := gf[e.rng.IntN(len(gf))]
		if err := e.post(ctx, "/_sim/fault?target="+f.target+"&path="+f.path, f.body, nil); err != nil {
			return err
		}
		labels = append(labels, f.label)
	}
	if e.rng.IntN(2) == 0 {
		f := sf[e.rng.IntN(len(sf))]
		if err := e.post(ctx, "/_sim/fault?target="+f.target+"&path="+f.path, f.body, nil); err != nil {
			return err
		}
		labels = append(labels, f.label)
	}
	if e.rng.IntN(8) == 0 {
		if err := e.post(ctx, "/_sim/expire-tokens", nil, nil); err != nil {
			return err
		}
		labels = append(labels, "tokens expired")
	}
	// Settlement needs the gateways' days to pass: about every fourth
	// life moves the simulators a day on.
	if e.rng.IntN(4) == 0 {
		if err := e.advance(ctx, 26*time.Hour); err != nil {
			return err
		}
		labels = append(labels, "a day passes")
	}
	life := 200*time.Millisecond + time.Duration(e.rng.Int64N(int64(2300*time.Millisecond)))
	if e.rng.IntN(5) == 0 {
		// One life in five is long enough for the pages to answer a
		// customer or a staff member before the kill (the first page
		// of a new daemon takes a second or two under load).
		life += 2500 * time.Millisecond
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	d, err := e.startDaemon("SPLYNXPAY_LISTEN_ADDR=" + addr)
	if err != nil {
		return err
	}
	// Customers pay and staff press Pay now on the pages meanwhile (web.go).
	visits, waitVisits := e.webVisits(ctx, addr, life)
	labels = append(labels, visits...)
	var admin *exec.Cmd
	if e.rng.IntN(3) == 0 && len(e.newInv) > 0 {
		ids := make([]string, 1+e.rng.IntN(5))
		for i := range ids {
			ids[i] = fmt.Sprint(e.newInv[e.rng.IntN(len(e.newInv))])
		}
		if admin, err = e.start("charge", "--id", strings.Join(ids, ",")); err != nil {
			_ = d.kill()
			_ = waitVisits()
			return err
		}
		labels = append(labels, "admin charge of "+strings.Join(ids, ","))
	}
	// Now and then a backup runs beside the daemon (and may outlive it).
	var backup chan error
	if e.rng.IntN(8) == 0 {
		backup = make(chan error, 1)
		go func() { backup <- e.command(ctx, 2*time.Minute, "backup") }()
		labels = append(labels, "backup")
	}
	select {
	case <-time.After(life):
	case <-ctx.Done():
	}
	killErr := d.kill()
	webErr := waitVisits()
	if admin != nil {
		if e.rng.IntN(2) == 0 {
			kill(admin)
		} else {
			_ = admin.Wait()
		}
	}
	if backup != nil {
		if err := <-backup; err != nil {
			return fmt.Errorf("backup beside the daemon: %w", err)
		}
		// Keep the newest few, as backup_keep would: a long run would
		// otherwise fill the disk with copies.
		if _, err := store.PruneBackups(filepath.Join(e.dir, "backups"), "splynx-"+e.addon+"-", 5); err != nil {
			return err
		}
	}
	if killErr != nil {
		return fmt.Errorf("%w; its last log line: %s", killErr, e.lastLogLine())
	}
	if webErr != nil {
		labels = append(labels, "WRONG PAGE ANSWER: "+webErr.Error())
	}
	if e.o.Verbose {
		e.out.Printf("kill %d after %s [%s]", n+1, life.Round(time.Millisecond), strings.Join(labels, "; "))
	}
	return nil
}

// finishStall and finishLimit bound finish: no attempt or write-back
// resolved for finishStall, or finishLimit in all, fails the run.
const (
	finishStall = 2 * time.Minute
	finishLimit = 20 * time.Minute
)

// finish lets the daemon run without faults and without new nightly runs
// while the simulators' days pass, until nothing the killed daemons left is
// unresolved and no write-back is waiting, then stops it with SIGTERM.
func (e *env) finish(ctx context.Context) error {
	if err := e.post(ctx, "/_sim/clear", nil, nil); err != nil {
		return err
	}
	baseline, err := e.lastAttempt(ctx)
	if err != nil {
		return err
	}
	// No new nightly runs: what is left to prove is that everything the
	// killed daemons started ends resolved, settled and written back. The
	// charge schedule is pushed out of reach instead of auto_charge=0,
	// which would also hold back the retries of declines that fell due
	// (retries follow auto_charge): those must go out and reconcile too.
	// (A schedule firing every 1000 h has no missed run to catch up.)
	d, err := e.startDaemon("SPLYNXPAY_CHARGE_SCHEDULE=@every 1000h")
	if err != nil {
		return err
	}
	defer d.stop()
	// The work left must keep shrinking: the write-backs of a long run's
	// matured debits go at the Splynx request rate (20/s by default, shared
	// with the sync), so a fixed deadline would fail a run for being big.
	// It fails when nothing has resolved for finishStall, or after
	// finishLimit in all.
	quiet := 0
	start, progressed, best := time.Now(), time.Now(), -1
	for quiet < 3 {
		if now := time.Now(); now.Sub(progressed) > finishStall || now.Sub(start) > finishLimit {
			n, _ := e.liveWork(ctx, baseline)
			return fmt.Errorf("still %d unresolved attempts or write-backs after %s without faults (none resolved in the last %s)",
				n, now.Sub(start).Round(time.Second), now.Sub(progressed).Round(time.Second))
		}
		if err := e.advance(ctx, 26*time.Hour); err != nil {
			return err
		}
		select {
		case <-time.After(2500 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		if gone, err := d.exited(); gone {
			return fmt.Errorf("the daemon stopped by itself (%v); its last log line: %s", err, e.lastLogLine())
		}
		n, err := e.liveWork(ctx, baseline)
		if err != nil {
			return err
		}
		if best < 0 || n < best {
			best, progressed = n, time.Now()
		}
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return nil
}
