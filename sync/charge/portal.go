package charge

// FeeFor is the service fee (with its VAT) the engine adds to a charge of
// amount, so a payment page can show it before the customer confirms.
func (e *Engine) FeeFor(amount int64) int64 { return e.fees(amount) }
