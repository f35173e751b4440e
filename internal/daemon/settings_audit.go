package daemon

import (
	"context"

	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/config"
)

// noteSettings writes a setting.changed row to the audit trail for every
// module setting that differs from the last read (issue 14). A failure is
// logged, never in the way of reading the settings.
func (a *App) noteSettings(ctx context.Context, s config.Settings) {
	if a.DB == nil || a.Clock == nil || a.Log == nil {
		return
	}
	secret := map[string]bool{}
	for _, sp := range config.Specs {
		secret[sp.Key] = sp.Secret
	}
	changed, err := a.DB.NoteSettings(context.WithoutCancel(ctx), s.Raw, secret, a.Clock.Now())
	if err != nil {
		a.Log.Warn("settings: cannot note changes in the audit trail", zap.Error(err))
		return
	}
	if len(changed) > 0 {
		a.Log.Info("module settings changed", zap.Strings("keys", changed))
	}
}
