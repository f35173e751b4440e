package gateways

// ValidABA reports whether s is a 9-digit US ABA routing number with a
// correct check digit (weights 3, 7, 1 repeating; the sum is a multiple of
// 10). It lives here, beside Luhn, so the pages of either add-on can check
// a form field without linking the IPpay client.
func ValidABA(s string) bool {
	if len(s) != 9 {
		return false
	}
	weights := [3]int{3, 7, 1}
	sum := 0
	for i := 0; i < 9; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * weights[i%3]
	}
	return sum%10 == 0 && s != "000000000"
}
