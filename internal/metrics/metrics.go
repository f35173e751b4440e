// Package metrics counts the daemon's outbound HTTP calls for the
// Prometheus endpoint (<prefix>/metrics): Splynx API requests by status and
// gateway requests by operation and outcome, each with a latency histogram.
// The figures read from the database at scrape time (sync age, queues,
// attempts) are collected by the web package.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	splynxRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "splynxpay_splynx_requests_total",
		Help: "Splynx API requests by HTTP status (\"error\": no answer).",
	}, []string{"status"})
	splynxLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "splynxpay_splynx_request_duration_seconds",
		Help:    "Latency of Splynx API requests.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	gatewayRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "splynxpay_gateway_requests_total",
		Help: "Payment gateway requests by gateway, operation and outcome (ok, client_error, server_error, no_answer).",
	}, []string{"gateway", "operation", "outcome"})
	gatewayLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "splynxpay_gateway_request_duration_seconds",
		Help:    "Latency of payment gateway requests by gateway and operation.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"gateway", "operation"})
)

// Collectors are the HTTP call metrics, for a registry.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{splynxRequests, splynxLatency, gatewayRequests, gatewayLatency}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func base(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	return next
}

// SplynxTransport counts Splynx API requests made through next (nil: a
// clone of the default transport).
func SplynxTransport(next http.RoundTripper) http.RoundTripper {
	next = base(next)
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := next.RoundTrip(r)
		splynxLatency.Observe(time.Since(start).Seconds())
		status := "error"
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		splynxRequests.WithLabelValues(status).Inc()
		return resp, err
	})
}

// GatewayTransport counts requests to the gateway called name.
func GatewayTransport(name string, next http.RoundTripper) http.RoundTripper {
	next = base(next)
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		op := Operation(r.Method, r.URL.Path)
		start := time.Now()
		resp, err := next.RoundTrip(r)
		gatewayLatency.WithLabelValues(name, op).Observe(time.Since(start).Seconds())
		outcome := "no_answer"
		if err == nil {
			switch {
			case resp.StatusCode < 400:
				outcome = "ok"
			case resp.StatusCode < 500:
				outcome = "client_error"
			default:
				outcome = "server_error"
			}
		}
		gatewayRequests.WithLabelValues(name, op, outcome).Inc()
		return resp, err
	})
}

// Operation names a gateway request without its identifiers, so label
// values stay few: "POST payers/{ref}/transactions/card". The business
// id, payer references and numeric ids are replaced.
func Operation(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		switch {
		case s == "businesses" && i+1 < len(segs):
			i++ // the business id says nothing about the operation
			continue
		case i > 0 && segs[i-1] == "payers":
			s = "{ref}"
		case strings.ContainsAny(s, "0123456789"):
			s = "{id}"
		}
		out = append(out, s)
	}
	return method + " " + strings.Join(out, "/")
}

// SplynxClient is an HTTP client whose requests are counted as Splynx's.
func SplynxClient() *http.Client { return &http.Client{Transport: SplynxTransport(nil)} }

// GatewayClient is an HTTP client whose requests are counted as name's.
func GatewayClient(name string) *http.Client {
	return &http.Client{Transport: GatewayTransport(name, nil)}
}
