package daemon

import "github.com/splynx-pay/splynx-pay/internal/config"

// TestClockEnv names a file holding a duration ("52h") that the daemon adds
// to the wall clock, re-read while it runs. It exists for splynx-chaos,
// which moves the simulators and the daemon days forward together so that
// settlement, retries and stale-attempt recovery happen within minutes. Only
// builds with the demo honour it (testclock.go); the packaged build
// (-tags nodemo) ignores it (testclock_nodemo.go).
const TestClockEnv = config.EnvPrefix + "_TEST_CLOCK_FILE"
