package daemon

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/splynx-pay/splynx-pay/web"
)

var signCommand = Command{Name: "sign", Summary: "print the (signed) direct payment link of a document: sign [--id] invoice|proforma <number or id>", Run: signCmd}

// signCmd prints the direct payment link of an invoice or proforma, signed
// with direct_pay_link_key, for an e-mail template or a support reply.
func signCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	byID := fs.Bool("id", false, "the document is given by its Splynx id, not its number")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("sign: want invoice|proforma and a number (or --id and an id), e.g. sign invoice 202611000123")
	}
	set, err := app.Settings(ctx)
	if err != nil {
		return err
	}
	p, err := web.DirectPayPath(fs.Arg(0), *byID, fs.Arg(1), set.DirectPayLinkKey)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	base := set.SplynxURL
	if base == "" {
		base = app.Boot.SplynxURL
	}
	if set.DirectPayLinkKey == "" {
		fmt.Fprintln(app.Stderr, "sign: direct_pay_link_key is not set, so the link is not signed")
	}
	fmt.Fprintln(app.Stdout, strings.TrimRight(base, "/")+app.Prefix+p)
	return nil
}
