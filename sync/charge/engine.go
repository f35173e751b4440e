// Package charge turns what Splynx says is owed into gateway charges and
// settled charges into Splynx payments, each exactly once (DESIGN.md, "The
// charge"). The database is the source of truth: every decision is a guarded
// state transition in store, so a crash at any point leaves rows that say
// what is known, and the reconciler finishes the job after a restart.
package charge

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// Hooks stop the engine at the points where a crash matters (tests only).
// A hook that returns an error makes the engine abandon the item on the
// spot, writing nothing more, exactly as if the process had died there.
type Hooks struct {
	// AfterCreate runs once the attempt is committed in state created.
	AfterCreate func(a store.ChargeAttempt) error
	// BeforeSend runs once the attempt is committed in state sending,
	// right before the gateway call.
	BeforeSend func(a store.ChargeAttempt) error
	// AfterGateway runs when the gateway answered, before the answer is stored.
	AfterGateway func(a store.ChargeAttempt, o gateways.Outcome) error
	// AfterPayment runs when the Splynx payment was created, before its id is stored.
	AfterPayment func(a store.ChargeAttempt, paymentID int64) error
	// AfterReread runs when a run's batched re-read of these documents
	// (kind invoice or proforma) answered, before any charge uses it.
	AfterReread func(kind string, ids []int64)
}

// ErrCrashed wraps a hook's error so callers can tell a simulated crash.
var ErrCrashed = errors.New("charge: stopped by a test hook")

// Options configure an Engine.
type Options struct {
	// Policy is what the engine does with money (currency, payment
	// methods, retries, concurrency, fees, ...). It must pass
	// Policy.Validate: New fills in nothing.
	Policy Policy
	Clock  clock.Clock
	Logger *zap.Logger
	// Location is the time zone of Splynx dates (payment date, invoice
	// period); nil → UTC.
	Location *time.Location
	// StaleAfter: a row left in created/sending this long by a process that
	// is not this engine cannot still be in flight. Default 5 minutes.
	StaleAfter time.Duration
	// NotFoundGrace: an unknown attempt that a confirmed lookup channel
	// still says it does not know this long after it was sent was never
	// received. Default 15 minutes. An inconclusive lookup (an unconfirmed
	// path, a 404 or 405 from one) never declines anything: the attempt
	// stays unknown and goes to review after review_unknown_after_days.
	NotFoundGrace time.Duration
	// ProgressEvery is how often a running run's counters are saved. Default 1s.
	ProgressEvery time.Duration
	// Operator goes into gateway audit fields. Default "splynx-pay".
	Operator string
	// LeaseID names this process on write-back claims. Default LeaseID().
	LeaseID string
	// Stopping is closed when the process is stopping (SIGTERM): from then
	// on runs, retries and late refunds start no new charge or refund,
	// while those already under way finish under their own context, so a
	// drain does not leave outcomes unknown. nil = never.
	Stopping <-chan struct{}
	Hooks    Hooks
}

// stopping reports whether Options.Stopping is closed.
func (e *Engine) stopping() bool {
	select {
	case <-e.opts.Stopping:
		return true
	default:
		return false
	}
}

// Engine charges, settles, reconciles and writes back. It is safe for
// concurrent use; several engines (processes) may share one database.
type Engine struct {
	db    *store.DB
	sp    *splynx.Client
	gw    gateways.Gateway
	opts  Options
	set   Policy
	clk   clock.Clock
	log   *zap.Logger
	loc   *time.Location
	mu    sync.Mutex
	owned map[int64]struct{} // attempts this engine has in flight
}

// New returns an Engine over the database, the Splynx client and the gateway.
// It panics when opts.Policy is invalid.
func New(db *store.DB, sp *splynx.Client, gw gateways.Gateway, opts Options) *Engine {
	if u, ok := gw.(gateways.AckStoreUser); ok && db != nil {
		// Acks a gateway cannot send anywhere survive restarts here.
		u.UseAckStore(db)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Minute
	}
	if opts.NotFoundGrace <= 0 {
		opts.NotFoundGrace = 15 * time.Minute
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = time.Second
	}
	if opts.Operator == "" {
		opts.Operator = "splynx-pay"
	}
	if opts.LeaseID == "" {
		opts.LeaseID = LeaseID()
	}
	if err := opts.Policy.Validate(); err != nil {
		// A programming error: every caller maps the policy through
		// internal/wire.ChargePolicy, which returns this error instead.
		panic(err)
	}
	s := opts.Policy
	return &Engine{db: db, sp: sp, gw: gw, opts: opts, set: s, clk: opts.Clock,
		log: opts.Logger.Named("charge"), loc: opts.Location, owned: map[int64]struct{}{}}
}

// Policy returns the policy the engine runs with.
func (e *Engine) Policy() Policy { return e.set }

// DB returns the engine's database.
func (e *Engine) DB() *store.DB { return e.db }

func (e *Engine) now() time.Time { return e.clk.Now() }

func (e *Engine) own(id int64) {
	e.mu.Lock()
	e.owned[id] = struct{}{}
	e.mu.Unlock()
}

func (e *Engine) release(id int64) {
	e.mu.Lock()
	delete(e.owned, id)
	e.mu.Unlock()
}

func (e *Engine) owns(id int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.owned[id]
	return ok
}

var refEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewReference returns a fresh gateway reference: "SP" and 16 random
// uppercase base32 characters (80 bits), unique across installs.
func NewReference() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("charge: no randomness for a reference: %v", err))
	}
	return "SP" + refEncoding.EncodeToString(b[:])
}

func (e *Engine) crashed(err error) error {
	return fmt.Errorf("%w: %v", ErrCrashed, err)
}

// methodOf turns a stored method into what the gateway charges.
func methodOf(m store.SavedMethodRow) gateways.SavedMethod {
	return gateways.SavedMethod{Kind: gateways.MethodKind(m.Kind), Token: m.Token, Mask: m.Mask, Brand: m.Brand,
		HolderName: m.HolderName, ExpMonth: m.ExpMonth, ExpYear: m.ExpYear, AccountType: m.AccountType}
}

// payerRef is the gateway's reference of the customer (customer identifier setting).
func (e *Engine) payerRef(customerID int64, login string) string {
	if e.set.CustomerIdentifier == "login" && login != "" {
		return login
	}
	return fmt.Sprintf("%d", customerID)
}
