package ippay

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/splynx-pay/splynx-pay/gateways"
	"github.com/splynx-pay/splynx-pay/gateways/ippay/ippaysim"
	"github.com/splynx-pay/splynx-pay/store"
)

// An acknowledged return stays acknowledged after a restart: the acks live
// in the SQLite store, not in the client's memory.
func TestReturnAcksSurviveRestart(t *testing.T) {
	e := newEnv(t, ippaysim.Options{}, func(c *Config) { c.ReturnsURL = "" })
	path := filepath.Join(t.TempDir(), "acks.db")
	client := func() (*Client, *store.DB) {
		db, err := store.Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Config{URL: e.srv.URL + "/ippay", CardTerminalID: cardTerminal, ReturnsURL: e.srv.URL + "/returns.csv"},
			WithHTTPClient(e.srv.Client()), WithClock(e.sim.Clock()), WithAckStore(db))
		if err != nil {
			t.Fatal(err)
		}
		return c, db
	}
	c1, db1 := client()
	m := e.saveBank(t)
	for _, ref := range []string{"SPACKED00000000001", "SPACKED00000000002"} {
		if o, err := c1.Charge(ctx, gateways.ChargeRequest{Reference: ref, Method: m, Amount: 1500}); err != nil || o.Status != gateways.Pending {
			t.Fatalf("charge %+v %v", o, err)
		}
	}
	e.sim.Clock().Advance(72 * time.Hour)
	for _, ref := range []string{"SPACKED00000000001", "SPACKED00000000002"} {
		if err := e.sim.InjectReturn(ref, "R01"); err != nil {
			t.Fatal(err)
		}
	}
	chs, err := c1.Changes(ctx)
	if err != nil || len(chs) != 2 {
		t.Fatalf("changes %+v %v", chs, err)
	}
	if err := c1.Ack(ctx, chs[0]); err != nil {
		t.Fatal(err)
	}
	db1.Close()

	c2, db2 := client() // a new process on the same database
	defer db2.Close()
	chs2, err := c2.Changes(ctx)
	if err != nil || len(chs2) != 1 || chs2[0].AckID != chs[1].AckID {
		t.Fatalf("after restart: %+v %v; want only %s", chs2, err, chs[1].AckID)
	}
	if ok, err := db2.IsAcked(ctx, "ippay", chs[0].AckID); !ok || err != nil {
		t.Errorf("ack row %v %v", ok, err)
	}
}
