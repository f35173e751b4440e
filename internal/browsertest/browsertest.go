// Package browsertest drives Debian's headless Chromium from Go tests, so
// pages are tested as a person uses them: open a URL, fill a form, click,
// read what the page shows, take a screenshot to look at.
//
// Chromium is found at $CHROMIUM, else chromium or chromium-browser on the
// PATH. Where there is none, tests skip, except under CI (CI=true, as
// .ci/run is run), where a missing browser fails the test: CI installs
// the Debian package `chromium` and must never pass by skipping the pages.
//
// Screenshots: with SPLYNXPAY_SCREENSHOTS=<dir>, Tab.Shot writes
// <dir>/<name>.png (full page); otherwise it does nothing.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium process shared by the tabs of a test.
type Browser struct {
	allocCtx context.Context
	ctx      context.Context
	cancel   func()
}

// Path returns the Chromium binary to use, or "" when there is none.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Required reports whether a missing browser must fail rather than skip.
func Required() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1" || os.Getenv("SPLYNXPAY_BROWSER_REQUIRED") != ""
}

// chromium starts slowly on a loaded 2-core machine; tests that each start
// their own would spend most of their time there, so starts are serialised.
var startMu sync.Mutex

// New starts a headless Chromium for tb, stopped at tb's cleanup.
func New(tb testing.TB) *Browser {
	tb.Helper()
	path := Path()
	if path == "" {
		if Required() {
			tb.Fatal("browsertest: no chromium found (CI installs the Debian package chromium; set CHROMIUM to its path)")
		}
		tb.Skip("browsertest: no chromium on this machine (apt-get install chromium); CI runs these tests")
	}
	startMu.Lock()
	defer startMu.Unlock()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// The first action starts the browser, bound to the context it runs
	// on: a timeout context here would close the browser when it ends.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		allocCancel()
		tb.Fatalf("browsertest: start %s: %v", path, err)
	}
	b := &Browser{allocCtx: allocCtx, ctx: ctx, cancel: func() { cancel(); allocCancel() }}
	tb.Cleanup(b.cancel)
	return b
}

// Tab is one browser tab. Tabs of one Browser share its profile (cookies),
// as tabs of a real browser do: use a second Browser for a second visitor.
type Tab struct {
	tb  testing.TB
	ctx context.Context
}

// Tab opens a new tab, closed at tb's cleanup.
func (b *Browser) Tab(tb testing.TB) *Tab {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("browsertest: new tab: %v", err)
	}
	return &Tab{tb: tb, ctx: ctx}
}

// Timeout bounds every step of a tab.
var Timeout = 30 * time.Second

func (t *Tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.ctx, Timeout)
}

// Do runs chromedp steps with the step timeout, failing the test on error.
func (t *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	t.tb.Helper()
	ctx, cancel := t.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.tb.Fatalf("browsertest: %s: %v", what, err)
	}
}

// get runs one chromedp action that returns a value, failing the test on error.
func get[T any](t *Tab, what string, a chromedp.Action[T]) T {
	t.tb.Helper()
	ctx, cancel := t.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.tb.Fatalf("browsertest: %s: %v", what, err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and returns its value
// as JSON-decoded into T's shape (string, bool, float64, ...).
func Eval[T any](t *Tab, expr string) T {
	t.tb.Helper()
	return get(t, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// Context is the tab's chromedp context, for actions this package lacks.
func (t *Tab) Context() context.Context { return t.ctx }

// Go navigates to url and waits until the page has loaded.
func (t *Tab) Go(url string) {
	t.tb.Helper()
	t.Do("open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	t.Settle()
}

// Fill types value into the field matched by the CSS selector, replacing
// what was there.
func (t *Tab) Fill(sel, value string) {
	t.tb.Helper()
	c := chromedp.CSS(sel)
	t.Do("find "+sel, chromedp.WaitVisible(c))
	Eval[bool](t, fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, sel))
	t.Do("type into "+sel, chromedp.SendKeys(c, value))
}

// Select chooses the option with the given value in a <select>.
func (t *Tab) Select(sel, value string) {
	t.tb.Helper()
	t.Do("find "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	ok := Eval[bool](t, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event("change", {bubbles: true})); return e.value === %q })()`, sel, value, value))
	if !ok {
		t.tb.Fatalf("browsertest: %s has no option %q", sel, value)
	}
}

// Check ticks a checkbox (clicking it if it is not ticked yet).
func (t *Tab) Check(sel string) {
	t.tb.Helper()
	t.Do("find "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	if !Eval[bool](t, fmt.Sprintf(`document.querySelector(%q).checked`, sel)) {
		t.Do("tick "+sel, chromedp.Click(chromedp.CSS(sel)))
	}
}

// Click clicks the element and waits for the page (or the next one, when
// the click submits a form or follows a link) to be ready.
func (t *Tab) Click(sel string) {
	t.tb.Helper()
	before := t.navigations()
	c := chromedp.CSS(sel)
	t.Do("click "+sel, chromedp.WaitVisible(c), chromedp.Click(c))
	// A click that navigates replaces the document; wait briefly for that
	// to start, then for the new document to finish loading.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := t.tryNavigations(); err != nil || n != before {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Settle()
}

// navigations marks the current document so Click can tell a new one.
func (t *Tab) navigations() string {
	t.tb.Helper()
	return Eval[string](t, `window.__btMark || (window.__btMark = String(Math.random()))`)
}

func (t *Tab) tryNavigations() (string, error) {
	ctx, cancel := t.step()
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](`window.__btMark || ""`))
}

// Settle waits until the document has finished loading.
func (t *Tab) Settle() {
	t.tb.Helper()
	deadline := time.Now().Add(Timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := t.step()
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
		cancel()
		if err == nil && state == "complete" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.tb.Fatalf("browsertest: page did not finish loading in %v", Timeout)
}

// Text is the visible text of the first element matching sel.
func (t *Tab) Text(sel string) string {
	t.tb.Helper()
	t.Do("find "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	return get(t, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Body is the visible text of the whole page.
func (t *Tab) Body() string { return t.Text("body") }

// HTML is the page's current markup.
func (t *Tab) HTML() string {
	t.tb.Helper()
	return get(t, "html", chromedp.OuterHTML(chromedp.CSS("html")))
}

// URL is the tab's current address.
func (t *Tab) URL() string {
	t.tb.Helper()
	return get(t, "location", chromedp.Location())
}

// Exists reports whether any element matches sel now (no waiting).
func (t *Tab) Exists(sel string) bool {
	t.tb.Helper()
	return Eval[float64](t, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)) > 0
}

// Shot saves a full-page screenshot as name.png in $SPLYNXPAY_SCREENSHOTS.
func (t *Tab) Shot(name string) {
	t.tb.Helper()
	dir := os.Getenv("SPLYNXPAY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, "screenshot", chromedp.FullScreenshot(100)) // 100 = PNG
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.tb.Fatal(err)
	}
}
