package store

import "errors"

// ErrNotFound is the store's one "no such record" error, for the mirror (a
// customer, billing record, invoice or proforma) and the charge tables alike
// (an attempt, run or saved method). Test for it with errors.Is; the message
// it is wrapped in names what was looked for.
var ErrNotFound = errors.New("store: no such row")
