package simkit

import "sync"

// Log is a simulator's request log: records of type T in arrival order,
// bounded (the oldest dropped first) or not. Safe for concurrent use; the
// zero value is an unbounded log that is on.
type Log[T any] struct {
	mu    sync.Mutex
	cap   int // 0 = unbounded
	items []T
	at    int // ring write position once full
	added int // records ever added since the last Reset
	off   bool
}

// NewLog returns a log that keeps at most capacity records (0 = all).
func NewLog[T any](capacity int) *Log[T] { return &Log[T]{cap: capacity} }

// Add records r and returns its sequence number for Update; -1 when the
// log is off.
func (l *Log[T]) Add(r T) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off {
		return -1
	}
	seq := l.added
	l.added++
	if l.cap == 0 || len(l.items) < l.cap {
		l.items = append(l.items, r)
		return seq
	}
	l.items[l.at] = r
	l.at = (l.at + 1) % len(l.items)
	return seq
}

// Update changes the record seq in place (a status known only later); a
// record already dropped or reset is left alone.
func (l *Log[T]) Update(seq int, fn func(*T)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	back := l.added - 1 - seq // 0 = the newest
	if seq < 0 || back < 0 || back >= len(l.items) {
		return
	}
	i := len(l.items) - 1 - back
	if l.cap != 0 && len(l.items) == l.cap {
		i = (l.at - 1 - back + 2*len(l.items)) % len(l.items)
	}
	fn(&l.items[i])
}

// All returns the kept records, oldest first.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]T, 0, len(l.items))
	out = append(out, l.items[l.at:]...)
	return append(out, l.items[:l.at]...)
}

// Reset empties the log.
func (l *Log[T]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items, l.at, l.added = nil, 0, 0
}

// SetOn turns recording on or off (off for benchmarks).
func (l *Log[T]) SetOn(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = !on
}
