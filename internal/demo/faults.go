package demo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/splynx-pay/splynx-pay/splynx/splynxsim"
)

// ParseFaults reads a Splynx API fault spec such as
// "error=0.2,drop=0.05,latency=10ms,status=503,path=admin/finance"
// (keys: error, status, drop, drop_after, malformed, wrong_types, latency,
// path) into a fault and the path prefix it applies to.
func ParseFaults(spec string, seed int64) (splynxsim.Fault, string, error) {
	f := splynxsim.Fault{Seed: seed}
	path := ""
	if strings.TrimSpace(spec) == "" {
		return f, path, nil
	}
	rate := func(k, v string) (float64, error) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || x > 1 {
			return 0, fmt.Errorf("-faults %s=%q: want a rate from 0 to 1", k, v)
		}
		return x, nil
	}
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return f, path, fmt.Errorf("-faults: %q is not key=value", part)
		}
		var err error
		switch k {
		case "error":
			f.ErrorRate, err = rate(k, v)
		case "drop":
			f.DropRate, err = rate(k, v)
		case "drop_after":
			f.DropAfterRate, err = rate(k, v)
		case "malformed":
			f.MalformedRate, err = rate(k, v)
		case "wrong_types":
			f.WrongTypesRate, err = rate(k, v)
		case "status":
			f.Status, err = strconv.Atoi(v)
			if err != nil || f.Status < 400 || f.Status > 599 {
				err = fmt.Errorf("-faults status=%q: want an HTTP error status", v)
			}
		case "latency":
			f.Latency, err = time.ParseDuration(v)
			if err != nil {
				err = fmt.Errorf("-faults latency=%q: want a duration such as 10ms", v)
			}
		case "path":
			path = v
		default:
			err = fmt.Errorf("-faults: unknown key %q", k)
		}
		if err != nil {
			return f, path, err
		}
	}
	return f, path, nil
}
