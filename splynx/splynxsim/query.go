package splynxsim

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/splynx-pay/splynx-pay/internal/money"
)

// pnode is one level of a PHP-style nested query parameter
// (main_attributes[total][1][0]=5). PHP keeps insertion order, so do we.
type pnode struct {
	val   string
	leaf  bool
	keys  []string
	kids  map[string]*pnode
	nextI int
}

func (n *pnode) child(k string) *pnode {
	if k == "" { // PHP's [] appends with the next integer index
		k = strconv.Itoa(n.nextI)
	}
	if i, err := strconv.Atoi(k); err == nil && i >= n.nextI {
		n.nextI = i + 1
	}
	if n.kids == nil {
		n.kids = map[string]*pnode{}
	}
	c, ok := n.kids[k]
	if !ok {
		c = &pnode{}
		n.kids[k] = c
		n.keys = append(n.keys, k)
	}
	return c
}

func (n *pnode) get(k string) *pnode {
	if n == nil || n.kids == nil {
		return nil
	}
	return n.kids[k]
}

// values returns a leaf's value or the leaves of an array node in index order.
func (n *pnode) values() []string {
	if n == nil {
		return nil
	}
	if n.leaf && len(n.keys) == 0 {
		return []string{n.val}
	}
	keys := slices.Clone(n.keys)
	sort.SliceStable(keys, func(i, j int) bool {
		a, ea := strconv.Atoi(keys[i])
		b, eb := strconv.Atoi(keys[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return false
	})
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, n.kids[k].values()...)
	}
	return out
}

// toAny converts a parsed form into JSON-like values: leaves become
// strings, numerically indexed nodes arrays, others objects.
func (n *pnode) toAny() any {
	if len(n.keys) == 0 {
		if n.leaf {
			return n.val
		}
		return map[string]any{}
	}
	isArr := true
	for i, k := range n.keys {
		if k != strconv.Itoa(i) {
			isArr = false
			break
		}
	}
	if isArr {
		out := make([]any, len(n.keys))
		for i, k := range n.keys {
			out[i] = n.kids[k].toAny()
		}
		return out
	}
	out := make(map[string]any, len(n.keys))
	for _, k := range n.keys {
		out[k] = n.kids[k].toAny()
	}
	return out
}

// parsePHPQuery parses a raw query string the way PHP fills $_GET, which
// net/url cannot: brackets nest.
func parsePHPQuery(raw string) (*pnode, error) {
	root := &pnode{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("bad query key %q", k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("bad query value for %q", key)
		}
		base, rest, _ := strings.Cut(key, "[")
		n := root.child(base)
		if rest != "" {
			rest = "[" + rest
		}
		for strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				break
			}
			n = n.child(rest[1:end])
			rest = rest[end+1:]
		}
		n.leaf = true
		n.val = val
	}
	return root, nil
}

type cond struct {
	field      string
	additional bool
	op         string
	vals       []string
	// parsed per field kind on first use
	nums   []int64
	numsOK bool
	re     *regexp.Regexp
	like   []*regexp.Regexp
}

type orderBy struct {
	field string
	desc  bool
}

type listQuery struct {
	conds  []*cond
	order  []orderBy
	limit  int // -1: all
	offset int
	extra  *pnode // the whole parsed query, for endpoint-specific parameters
}

var knownOps = map[string]bool{
	"=": true, "!=": true, "<>": true, ">": true, ">=": true, "<": true, "<=": true,
	"LIKE": true, "NOT LIKE": true, "IN": true, "NOT IN": true, "BETWEEN": true,
	"IS": true, "REGEXP": true, "FIND_IN_SET": true,
}

func parseListQuery(raw string) (*listQuery, error) {
	root, err := parsePHPQuery(raw)
	if err != nil {
		return nil, err
	}
	q := &listQuery{limit: -1, extra: root}
	for _, group := range []string{"main_attributes", "additional_attributes"} {
		g := root.get(group)
		if g == nil {
			continue
		}
		for _, f := range g.keys {
			n := g.kids[f]
			c := &cond{field: f, additional: group == "additional_attributes"}
			if n.leaf && len(n.keys) == 0 {
				c.op, c.vals = "=", []string{n.val}
			} else {
				opn := n.get("0")
				if opn == nil || !opn.leaf {
					// main_attributes[f][]=a&main_attributes[f][]=b without an operator
					c.op, c.vals = "IN", n.values()
				} else {
					c.op = strings.ToUpper(strings.TrimSpace(opn.val))
					switch c.op {
					case "IN", "NOT IN":
						vn := n.get("1")
						c.vals = vn.values()
						if vn != nil && vn.leaf && len(vn.keys) == 0 && strings.Contains(vn.val, ",") {
							c.vals = strings.Split(vn.val, ",")
						}
					case "BETWEEN":
						c.vals = append(n.get("1").values(), n.get("2").values()...)
						if len(c.vals) != 2 {
							return nil, fmt.Errorf("BETWEEN on %s needs two values", f)
						}
					default:
						c.vals = n.get("1").values()
						if len(c.vals) == 0 {
							c.vals = []string{""}
						}
					}
				}
			}
			if !knownOps[c.op] {
				return nil, fmt.Errorf("unknown operator %q on %s", c.op, f)
			}
			if c.op == "REGEXP" {
				if c.re, err = regexp.Compile("(?i)" + c.vals[0]); err != nil {
					return nil, fmt.Errorf("bad REGEXP on %s", f)
				}
			}
			if c.op == "LIKE" || c.op == "NOT LIKE" {
				c.like = []*regexp.Regexp{likeRegexp(c.vals[0])}
			}
			q.conds = append(q.conds, c)
		}
	}
	if o := root.get("order"); o != nil {
		for _, f := range o.keys {
			dir := strings.ToUpper(strings.TrimSpace(o.kids[f].val))
			if dir != "" && dir != "ASC" && dir != "DESC" {
				return nil, fmt.Errorf("bad order direction %q for %s", dir, f)
			}
			q.order = append(q.order, orderBy{field: f, desc: dir == "DESC"})
		}
	}
	if l := root.get("limit"); l != nil && l.val != "" {
		n, err := strconv.Atoi(l.val)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad limit %q", l.val)
		}
		q.limit = n
	}
	if o := root.get("offset"); o != nil && o.val != "" {
		n, err := strconv.Atoi(o.val)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad offset %q", o.val)
		}
		q.offset = n
	}
	return q, nil
}

// likeRegexp turns a SQL LIKE pattern into a case-insensitive regexp, as
// MySQL's default collation compares.
func likeRegexp(p string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("(?is)^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%':
			sb.WriteString(".*")
		case '_':
			sb.WriteString(".")
		case '\\':
			if i+1 < len(p) {
				i++
				sb.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	return regexp.MustCompile(sb.String())
}

// canonical is the cache key of the filter and order part of a query.
func (q *listQuery) canonical() string {
	var sb strings.Builder
	for _, c := range q.conds {
		fmt.Fprintf(&sb, "%v|%s|%s|%q;", c.additional, c.field, c.op, c.vals)
	}
	sb.WriteString("#")
	for _, o := range q.order {
		fmt.Fprintf(&sb, "%s:%v;", o.field, o.desc)
	}
	return sb.String()
}

type fieldKind uint8

const (
	kInt   fieldKind = iota // ids, counts: compared numerically
	kMoney                  // cents: the condition value is parsed as money
	kStr                    // compared as text (= case-insensitively, like MySQL)
	kDate                   // compared lexically as "YYYY-MM-DD[ HH:MM:SS]", ordered by num
)

// field describes one searchable attribute of a record type R. num serves
// kInt, kMoney and the ordering of kDate; app appends the text form.
type field[R any] struct {
	kind fieldKind
	num  func(*R) int64
	app  func(*R, []byte) []byte
}

func fInt[R any](f func(*R) int64) field[R] {
	return field[R]{kind: kInt, num: f, app: func(r *R, b []byte) []byte { return strconv.AppendInt(b, f(r), 10) }}
}

func fMoney[R any](f func(*R) int64) field[R] {
	return field[R]{kind: kMoney, num: f, app: func(r *R, b []byte) []byte { return appendMoney4(b, f(r)) }}
}

func fStr[R any](f func(*R) string) field[R] {
	return field[R]{kind: kStr, app: func(r *R, b []byte) []byte { return append(b, f(r)...) }}
}

func fStrApp[R any](f func(*R, []byte) []byte) field[R] {
	return field[R]{kind: kStr, app: f}
}

func fDay[R any](f func(*R) int32) field[R] {
	return field[R]{kind: kDate, num: func(r *R) int64 { return int64(f(r)) }, app: func(r *R, b []byte) []byte { return appendDay(b, f(r)) }}
}

func fSec[R any](f func(*R) int64) field[R] {
	return field[R]{kind: kDate, num: f, app: func(r *R, b []byte) []byte { return appendDatetime(b, f(r)) }}
}

// view is how one endpoint searches a table: its fields and additional
// attributes.
type view[R any] struct {
	name   string
	fields map[string]field[R]
	aa     func(*R) map[string]string
	// indexed names kInt fields worth an equality index (customer_id):
	// per-customer queries over a million invoices then skip the scan.
	indexed []string
}

// prepare checks the fields and parses numeric condition values once.
func (v *view[R]) prepare(q *listQuery) error {
	for _, c := range q.conds {
		if c.additional {
			continue
		}
		f, ok := v.fields[c.field]
		if !ok {
			return fmt.Errorf("unknown attribute %q", c.field)
		}
		if f.kind == kInt || f.kind == kMoney {
			c.numsOK = true
			c.nums = c.nums[:0]
			for _, s := range c.vals {
				var n int64
				var err error
				if f.kind == kMoney {
					var a money.Amount
					a, err = money.Parse(s)
					n = int64(a)
				} else {
					n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
					if err != nil {
						// "12.00" for an integer field still compares numerically
						var a money.Amount
						if a, err = money.Parse(s); err == nil && a%100 == 0 {
							n = int64(a) / 100
						}
					}
				}
				if err != nil {
					c.numsOK = false
					break
				}
				c.nums = append(c.nums, n)
			}
		}
	}
	for _, o := range q.order {
		if _, ok := v.fields[o.field]; !ok {
			return fmt.Errorf("unknown order attribute %q", o.field)
		}
	}
	return nil
}

func (v *view[R]) match(r *R, q *listQuery, buf *[]byte) bool {
	for _, c := range q.conds {
		if !v.matchOne(r, c, buf) {
			return false
		}
	}
	return true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (v *view[R]) matchOne(r *R, c *cond, buf *[]byte) bool {
	var text []byte
	kind := kStr
	if c.additional {
		var s string
		if v.aa != nil {
			s = v.aa(r)[c.field]
		}
		text = append((*buf)[:0], s...)
	} else {
		f := v.fields[c.field]
		kind = f.kind
		if (kind == kInt || kind == kMoney) && c.numsOK {
			n := f.num(r)
			switch c.op {
			case "=", "IS":
				return n == c.nums[0]
			case "!=", "<>":
				return n != c.nums[0]
			case ">":
				return n > c.nums[0]
			case ">=":
				return n >= c.nums[0]
			case "<":
				return n < c.nums[0]
			case "<=":
				return n <= c.nums[0]
			case "BETWEEN":
				return n >= c.nums[0] && n <= c.nums[1]
			case "IN":
				return slices.Contains(c.nums, n)
			case "NOT IN":
				return !slices.Contains(c.nums, n)
			}
		}
		text = f.app(r, (*buf)[:0])
	}
	*buf = text
	cmp := func(s string) int {
		if kind == kStr {
			return bytes.Compare(bytes.ToLower(text), []byte(strings.ToLower(s)))
		}
		return bytes.Compare(text, []byte(s))
	}
	eq := func(s string) bool {
		if kind == kStr {
			return bytes.EqualFold(text, []byte(s))
		}
		return string(text) == s
	}
	switch c.op {
	case "=":
		return eq(c.vals[0])
	case "IS":
		if strings.EqualFold(c.vals[0], "NULL") {
			return len(text) == 0 || string(text) == "0000-00-00" || string(text) == "0000-00-00 00:00:00"
		}
		return eq(c.vals[0])
	case "!=", "<>":
		return !eq(c.vals[0])
	case ">":
		return cmp(c.vals[0]) > 0
	case ">=":
		return cmp(c.vals[0]) >= 0
	case "<":
		return cmp(c.vals[0]) < 0
	case "<=":
		return cmp(c.vals[0]) <= 0
	case "BETWEEN":
		return cmp(c.vals[0]) >= 0 && cmp(c.vals[1]) <= 0
	case "IN", "NOT IN":
		in := false
		for _, s := range c.vals {
			if eq(s) {
				in = true
				break
			}
		}
		return in == (c.op == "IN")
	case "LIKE":
		return c.like[0].Match(text)
	case "NOT LIKE":
		return !c.like[0].Match(text)
	case "REGEXP":
		return c.re.Match(text)
	case "FIND_IN_SET":
		for _, part := range strings.Split(string(text), ",") {
			if part == c.vals[0] {
				return true
			}
		}
		return false
	}
	return false
}

// table keeps records sorted by id so that lookups are binary searches and
// unfiltered pages are slices: listing a million invoices by offset costs
// O(page) per request, not O(N).
type table[R any] struct {
	recs    []R
	idOf    func(*R) int64
	version uint64
	cmu     sync.Mutex // guards cache and eq: queries run under the simulator's read lock
	cache   []cacheEntry
	eq      map[string]*eqIndex
	hidden  map[int64]bool // left out of list answers (HideFromLists)
}

// eqIndex maps a field's value to record positions, valid for one version.
type eqIndex struct {
	version uint64
	pos     map[int64][]int32
}

// candidates returns the positions an indexed equality condition allows,
// building the index when the table has changed; ok is false when no
// condition can use an index.
func (t *table[R]) candidates(v *view[R], q *listQuery) ([]int32, bool) {
	for _, c := range q.conds {
		if c.additional || (c.op != "=" && c.op != "IS") || !c.numsOK || !slices.Contains(v.indexed, c.field) {
			continue
		}
		if t.eq == nil {
			t.eq = map[string]*eqIndex{}
		}
		ix := t.eq[c.field]
		if ix == nil || ix.version != t.version {
			num := v.fields[c.field].num
			ix = &eqIndex{version: t.version, pos: map[int64][]int32{}}
			for i := range t.recs {
				k := num(&t.recs[i])
				ix.pos[k] = append(ix.pos[k], int32(i))
			}
			t.eq[c.field] = ix
		}
		return ix.pos[c.nums[0]], true
	}
	return nil, false
}

type cacheEntry struct {
	key     string
	version uint64
	pos     []int32
}

func (t *table[R]) find(id int64) (int, bool) {
	return sort.Find(len(t.recs), func(i int) int { return cmpInt(id, t.idOf(&t.recs[i])) })
}

func (t *table[R]) get(id int64) *R {
	if i, ok := t.find(id); ok {
		return &t.recs[i]
	}
	return nil
}

func (t *table[R]) lastID() int64 {
	if len(t.recs) == 0 {
		return 0
	}
	return t.idOf(&t.recs[len(t.recs)-1])
}

// insert adds r in id order (append in the common case).
func (t *table[R]) insert(r R) {
	t.version++
	id := t.idOf(&r)
	if len(t.recs) == 0 || id > t.lastID() {
		t.recs = append(t.recs, r)
		return
	}
	i, found := t.find(id)
	if found {
		t.recs[i] = r
		return
	}
	t.recs = slices.Insert(t.recs, i, r)
}

func (t *table[R]) remove(id int64) bool {
	i, ok := t.find(id)
	if !ok {
		return false
	}
	t.version++
	t.recs = slices.Delete(t.recs, i, i+1)
	return true
}

func (t *table[R]) touch() { t.version++ }

// page is the result of a list query: positions into recs (valid only under
// the lock it was computed in) and the total number of matches.
type page struct {
	pos   []int32
	lo    int // when pos is nil: the page is recs[lo:hi] (or reversed)
	hi    int
	desc  bool
	total int
}

func (p *page) each(fn func(i int)) {
	if p.pos != nil {
		for _, i := range p.pos {
			fn(int(i))
		}
		return
	}
	if p.desc {
		for i := p.hi - 1; i >= p.lo; i-- {
			fn(i)
		}
		return
	}
	for i := p.lo; i < p.hi; i++ {
		fn(i)
	}
}

func (p *page) len() int {
	if p.pos != nil {
		return len(p.pos)
	}
	return p.hi - p.lo
}

// idRange narrows [lo,hi) for conditions on id alone; ok is false when a
// condition cannot be answered from the sorted order.
func (t *table[R]) idRange(conds []*cond) (lo, hi int, ok bool) {
	lo, hi = 0, len(t.recs)
	at := func(id int64) int {
		i, _ := t.find(id)
		return i
	}
	for _, c := range conds {
		if c.additional || c.field != "id" || !c.numsOK {
			return 0, 0, false
		}
		var l, h int
		switch c.op {
		case "=", "IS":
			l, h = at(c.nums[0]), at(c.nums[0]+1)
		case ">":
			l, h = at(c.nums[0]+1), len(t.recs)
		case ">=":
			l, h = at(c.nums[0]), len(t.recs)
		case "<":
			l, h = 0, at(c.nums[0])
		case "<=":
			l, h = 0, at(c.nums[0]+1)
		case "BETWEEN":
			l, h = at(c.nums[0]), at(c.nums[1]+1)
		default:
			return 0, 0, false
		}
		lo, hi = max(lo, l), min(hi, h)
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi, true
}

func clampPage(total, offset, limit int) (int, int) {
	lo := min(offset, total)
	hi := total
	if limit >= 0 && lo+limit < hi {
		hi = lo + limit
	}
	return lo, hi
}

// query runs q over the table under the caller's lock. Filters other than
// on id are answered by one scan whose result is cached until the table
// changes, so paging through a filtered set is not quadratic.
func (t *table[R]) query(v *view[R], q *listQuery) page {
	byID := len(q.order) == 0 || (len(q.order) == 1 && q.order[0].field == "id")
	if byID {
		if lo, hi, ok := t.idRange(q.conds); ok {
			desc := len(q.order) == 1 && q.order[0].desc
			a, b := clampPage(hi-lo, q.offset, q.limit)
			if desc {
				return page{lo: hi - b, hi: hi - a, desc: true, total: hi - lo}
			}
			return page{lo: lo + a, hi: lo + b, total: hi - lo}
		}
	}
	key := v.name + "\x00" + q.canonical()
	t.cmu.Lock()
	defer t.cmu.Unlock()
	var all []int32
	for _, e := range t.cache {
		if e.key == key && e.version == t.version {
			all = e.pos
			break
		}
	}
	if all == nil {
		all = t.scan(v, q)
		if len(t.cache) >= 4 {
			t.cache = t.cache[1:]
		}
		t.cache = append(t.cache, cacheEntry{key: key, version: t.version, pos: all})
	}
	a, b := clampPage(len(all), q.offset, q.limit)
	pos := all[a:b]
	if pos == nil {
		pos = []int32{}
	}
	return page{pos: pos, total: len(all)}
}

func (t *table[R]) scan(v *view[R], q *listQuery) []int32 {
	buf := make([]byte, 0, 64)
	all := make([]int32, 0, 16)
	if cand, ok := t.candidates(v, q); ok {
		for _, i := range cand {
			if v.match(&t.recs[i], q, &buf) {
				all = append(all, i)
			}
		}
	} else {
		for i := range t.recs {
			if v.match(&t.recs[i], q, &buf) {
				all = append(all, int32(i))
			}
		}
	}
	if len(q.order) == 0 {
		return all
	}
	// Precompute sort keys so the sort does not format values per comparison.
	type key struct {
		n []int64
		s []string
	}
	keys := make([]key, len(all))
	for k, i := range all {
		r := &t.recs[i]
		for _, o := range q.order {
			f := v.fields[o.field]
			if f.kind == kStr {
				keys[k].s = append(keys[k].s, strings.ToLower(string(f.app(r, buf[:0]))))
				keys[k].n = append(keys[k].n, 0)
			} else {
				keys[k].n = append(keys[k].n, f.num(r))
				keys[k].s = append(keys[k].s, "")
			}
		}
	}
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := &keys[idx[a]], &keys[idx[b]]
		for j, o := range q.order {
			c := cmpInt(ka.n[j], kb.n[j])
			if c == 0 {
				c = strings.Compare(ka.s[j], kb.s[j])
			}
			if c != 0 {
				if o.desc {
					return c > 0
				}
				return c < 0
			}
		}
		return all[idx[a]] < all[idx[b]]
	})
	out := make([]int32, len(all))
	for k, i := range idx {
		out[k] = all[i]
	}
	return out
}
