package daemon

import (
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/clock"
)

func clockReal() clock.Clock { return clock.Real{} }
func nopLogger() *zap.Logger { return zap.NewNop() }
