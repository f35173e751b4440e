//go:build nodemo

package daemon

// The packaged build (-tags nodemo, debian/rules) has no demo command and
// so links no simulator; see cmd_demo.go.
var demoCommands []Command
