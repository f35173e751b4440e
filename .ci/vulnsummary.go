// vulnsummary reads `govulncheck -format json` on stdin and prints one line
// per vulnerability the code calls (a finding down to a function), marked
// module or toolchain (the Go standard library), with the fixed version.
//
//	govulncheck -format json ./... | go run .ci/vulnsummary.go
//
// Exit status: 0 nothing called; 1 a called vulnerability in a module
// (upgrade it); 2 called ones only in the standard library (a newer Go
// fixes them); 3 the input was not govulncheck's.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

type message struct {
	Config *struct {
		GoVersion string `json:"go_version"`
		DB        string `json:"db"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	summary := map[string]string{}
	type hit struct{ id, where, fixed, fn string }
	called := map[string]hit{}
	goVersion, db := "", ""
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulnsummary: not govulncheck JSON:", err)
			os.Exit(3)
		}
		switch {
		case m.Config != nil:
			goVersion, db = m.Config.GoVersion, m.Config.DB
		case m.OSV != nil:
			summary[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0 && m.Finding.Trace[0].Function != "":
			f := m.Finding
			t := f.Trace[0]
			fn := t.Package + "." + t.Function
			if t.Receiver != "" {
				fn = t.Package + "." + t.Receiver + "." + t.Function
			}
			key := f.OSV + " " + t.Module
			if _, ok := called[key]; !ok {
				called[key] = hit{id: f.OSV, where: t.Module + "@" + t.Version, fixed: f.FixedVersion, fn: fn}
			}
		}
	}
	if goVersion == "" {
		fmt.Fprintln(os.Stderr, "vulnsummary: no govulncheck config message in the input")
		os.Exit(3)
	}
	keys := make([]string, 0, len(called))
	for k := range called {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	modules, toolchain := 0, 0
	for _, k := range keys {
		h := called[k]
		kind := "module"
		if h.where[:len("stdlib")] == "stdlib" {
			kind, h.where = "toolchain", goVersion
			toolchain++
		} else {
			modules++
		}
		fixed := h.fixed
		if fixed == "" {
			fixed = "no fixed version"
		}
		fmt.Printf("vulncheck: called %s %s in %s (fixed in %s), vulnerable function %s: %s\n", kind, h.id, h.where, fixed, h.fn, summary[h.id])
	}
	fmt.Printf("vulncheck: %d called vulnerabilities in modules, %d in the Go standard library of %s (database %s)\n",
		modules, toolchain, goVersion, db)
	switch {
	case modules > 0:
		os.Exit(1)
	case toolchain > 0:
		os.Exit(2)
	}
}
