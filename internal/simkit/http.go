package simkit

import (
	"bytes"
	"net/http"
	"time"
)

// Drop closes the connection without an HTTP answer, as a crashed server,
// a firewall or a broken network would.
func Drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 cannot be hijacked; an aborted handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// Wait waits d or until the client goes away; it reports whether the
// client is still there.
func Wait(r *http.Request, d time.Duration) bool {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
	}
	return r.Context().Err() == nil
}

// Buffer is an http.ResponseWriter that keeps the answer, so a fault can
// replace it after the request was handled.
type Buffer struct {
	header http.Header
	Status int
	Body   bytes.Buffer
}

// NewBuffer returns an empty buffered answer (status 200).
func NewBuffer() *Buffer { return &Buffer{header: http.Header{}, Status: http.StatusOK} }

func (b *Buffer) Header() http.Header         { return b.header }
func (b *Buffer) Write(p []byte) (int, error) { return b.Body.Write(p) }
func (b *Buffer) WriteHeader(code int)        { b.Status = code }

// Flush sends the kept answer to w.
func (b *Buffer) Flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.Status)
	_, _ = w.Write(b.Body.Bytes())
}
