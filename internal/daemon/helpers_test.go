package daemon

import (
	"go.uber.org/zap"

	"github.com/splynx-pay/splynx-pay/internal/clock"
	"github.com/splynx-pay/splynx-pay/internal/wire/integrapaygw"
)

func clockReal() clock.Clock { return clock.Real{} }
func nopLogger() *zap.Logger { return zap.NewNop() }

// integraPayGateway builds the IntegraPay client from the settings with
// the builder cmd/splynx-integrapay gives the daemon (the daemon itself
// links no gateway client).
var integraPayGateway = integrapaygw.New
