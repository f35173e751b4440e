//go:build nodemo

package daemon

// useTestClock does nothing in the packaged build (-tags nodemo): a skewed
// clock moves business days, retry dates and settlement, so the
// SPLYNXPAY_TEST_CLOCK_FILE hook that `make chaos` uses must not exist in a
// daemon that charges real customers.
func useTestClock(*App) {}
