package money

import "testing"

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Amount
	}{
		{"100.0000", 10000},
		{"100", 10000},
		{"0.01", 1},
		{"12.345", 1235},
		{"12.344", 1234},
		{"12.3449", 1234},
		{"-0.125", -13},
		{"-12.5", -1250},
		{".5", 50},
		{"+7.10", 710},
		{"0007.1", 710},
		{" 61.87 ", 6187},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "abc", "1e2", "12,50", "99999999999999999.00"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded; want error", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := map[Amount]string{0: "0.00", 1: "0.01", 1234: "12.34", -5: "-0.05", 10000: "100.00"}
	for a, want := range cases {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int64(a), got, want)
		}
	}
	if got := Amount(10000).Decimals(4); got != "100.0000" {
		t.Errorf("Decimals(4) = %q", got)
	}
}

func TestPercent(t *testing.T) {
	cases := []struct {
		a    Amount
		pct  int64
		want Amount
	}{
		{10000, 250, 250}, // 2.5% of 100.00
		{1999, 150, 30},   // 1.5% of 19.99 = 0.29985 → 0.30
		{1000, 1000, 100},
		{-1999, 150, -30},
	}
	for _, c := range cases {
		if got := c.a.Percent(c.pct); got != c.want {
			t.Errorf("%v.Percent(%d) = %v; want %v", c.a, c.pct, got, c.want)
		}
	}
}
