package daemon

import (
	"context"
	"flag"
	"fmt"
)

var restoreMethodsCommand = Command{Name: "restore-methods", Summary: "rebuild saved payment methods from the Splynx payment accounts (after a lost database)",
	NeedsDB: true, Run: restoreMethodsCmd}

func restoreMethodsCmd(ctx context.Context, app *App, args []string) error {
	fs := flag.NewFlagSet("restore-methods", flag.ContinueOnError)
	fs.SetOutput(app.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	en, err := ChargeEngine(ctx, app)
	if err != nil {
		return err
	}
	st, err := en.RestoreMethods(ctx)
	if err != nil {
		return fmt.Errorf("restore-methods: %w", err)
	}
	fmt.Fprintf(app.Stdout, "restore-methods: %d payment accounts in Splynx: %d restored, %d kept (already saved here), %d skipped (no token)\n",
		st.Accounts, st.Restored, st.Kept, st.Skipped)
	return nil
}
