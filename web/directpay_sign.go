package web

// Signed direct payment links: with the direct_pay_link_key setting, a link
// may carry sig=HMAC(key, document); with direct_pay_require_signature=1 a
// link without a valid one is refused, so invoice ids and numbers cannot be
// walked through at all. The sign command prints signed links.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"

	"github.com/splynx-pay/splynx-pay/internal/config"
	"github.com/splynx-pay/splynx-pay/store"
)

// linkSig is the signature of a direct link to a document.
func linkSig(key, kind string, byID bool, item string) string {
	m := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(m, "splynx-pay direct link\x00%s\x00%t\x00%s", kind, byID, item)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// DirectPayPath is the path under the add-on prefix of the direct payment
// link of an invoice or proforma (kind "invoice" or "proforma") by number,
// or by id when byID; signed when key is not empty.
func DirectPayPath(kind string, byID bool, item, key string) (string, error) {
	if kind != store.KindInvoice && kind != store.KindProforma {
		return "", fmt.Errorf("web: direct link: kind %q is not invoice or proforma", kind)
	}
	if (byID && !allDigits(item)) || (!byID && !numberRE.MatchString(item)) {
		return "", fmt.Errorf("web: direct link: %q is not a %s %s", item, kind, map[bool]string{true: "id", false: "number"}[byID])
	}
	p := "/direct-pay-" + kind
	if byID {
		p += "-by-id"
	}
	q := url.Values{"item_id": {item}}
	if key != "" {
		q.Set("sig", linkSig(key, kind, byID, item))
	}
	return p + "?" + q.Encode(), nil
}

// linkOK checks a direct link's signature against the settings.
func linkOK(set config.Settings, kind string, byID bool, item, sig string) bool {
	if sig == "" {
		return !set.DirectPayRequireSig
	}
	if set.DirectPayLinkKey == "" {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(linkSig(set.DirectPayLinkKey, kind, byID, item)))
}
