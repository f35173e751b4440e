package config

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"
)

type bootstrapField struct {
	env, desc, def string
	secret         bool
	index          int
}

func bootstrapFields() []bootstrapField {
	t := reflect.TypeOf(Bootstrap{})
	var out []bootstrapField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		out = append(out, bootstrapField{
			env: envName(name), desc: f.Tag.Get("desc"), def: f.Tag.Get("def"),
			secret: f.Tag.Get("secret") == "true", index: i,
		})
	}
	return out
}

// Redacted lists the bootstrap values with secrets replaced.
func (b Bootstrap) Redacted() []Entry {
	v := reflect.ValueOf(b)
	var out []Entry
	for _, f := range bootstrapFields() {
		val := v.Field(f.index).Interface()
		var text string
		switch x := val.(type) {
		case time.Duration:
			text = x.String()
		default:
			text = fmt.Sprint(x)
		}
		if f.secret && text != "" {
			text = Redacted
		}
		src := b.Source[f.env]
		if src == "" {
			src = SourceDefault
		}
		out = append(out, Entry{Name: f.env, Value: text, Source: src, Secret: f.secret})
	}
	return out
}

// WriteDump prints the effective configuration as the `config` command
// shows it: name, value (secrets redacted) and where it came from.
func WriteDump(w io.Writer, b Bootstrap, s *Settings, settingsErr error) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BOOTSTRAP (environment)\tVALUE\tSOURCE")
	for _, e := range b.Redacted() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, show(e.Value), e.Source)
	}
	fmt.Fprintln(tw, "\t\t")
	switch {
	case settingsErr != nil:
		fmt.Fprintf(tw, "SETTINGS (module config)\tunavailable: %s\t\n", oneLine(settingsErr.Error()))
	case s != nil:
		fmt.Fprintln(tw, "SETTINGS (module config)\tVALUE\tSOURCE")
		for _, e := range s.Redacted() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, show(e.Value), e.Source)
		}
	}
	return tw.Flush()
}

func show(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

// Reference writes the configuration reference as Markdown; README.md
// embeds it between markers and a test keeps the two in sync.
func Reference(w io.Writer) {
	fmt.Fprintln(w, "Bootstrap, from the environment (`/etc/<package>/env`):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| variable | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, f := range bootstrapFields() {
		desc := f.desc
		if f.secret {
			desc += " (secret)"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", f.env, mdDefault(f.def), desc)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Settings, in Splynx (Config → Integrations → Modules list → Edit), each overridable")
	fmt.Fprintf(w, "by the environment variable `%s<KEY>` (upper case):\n", SettingEnvPrefix)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| key | add-on | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, sp := range Specs {
		addon := "both"
		if sp.Addon != "" {
			addon = string(sp.Addon)
		}
		desc := sp.Desc
		if sp.Secret {
			desc += " (secret)"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", sp.Key, addon, mdDefault(sp.Default), strings.ReplaceAll(desc, "|", `\|`))
	}
}

func mdDefault(d string) string {
	if d == "" {
		return "—"
	}
	return "`" + d + "`"
}
