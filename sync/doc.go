// Package sync holds the daemon's engines, one sub-package each:
//
//   - mirror copies Splynx customers, billing, invoices, proformas and
//     payment methods into the local store (full and incremental passes);
//   - charge plans and runs charges, follows settlement and writes payments
//     back to Splynx.
//
// Every engine reads Splynx through the splynx client and keeps its state in
// store; none of them talks to another engine except through the store.
package sync
