package splynx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// GetModuleConfig reads an add-on's settings from
// admin/config/config?module=add-on&path=<module>, as seen by partnerID
// (0 = the default partner). Splynx's answer shape for add-ons is not
// documented, so every shape seen in the wild is accepted:
//
//   - a flat object {"key":"value", ...};
//   - blocks: {"common":{...},"default_partners_settings":{...},"3":{...}}
//     (the config.ini.php sections), optionally with per-partner blocks
//     nested under "per_partner_options" or "partners";
//   - a list of {"key":..,"value":..[,"partner_id":..]} entries.
//
// Values may be strings, numbers, booleans (→ "1"/"0") or null (→ "").
// Precedence: general blocks, then the default partner's, then partnerID's.
func (c *Client) GetModuleConfig(ctx context.Context, module string, partnerID int64) (map[string]string, error) {
	if module == "" {
		return nil, errors.New("splynx: module config: module name is required")
	}
	var raw json.RawMessage
	err := c.getJSON(ctx, call{method: http.MethodGet, path: pathModuleConfig, query: moduleQuery(module, partnerID)}, &raw)
	if err != nil {
		return nil, fmt.Errorf("splynx: read config of module %s: %w", module, err)
	}
	out, err := parseModuleConfig(raw, partnerID)
	if err != nil {
		return nil, fmt.Errorf("splynx: read config of module %s: %w", module, err)
	}
	return out, nil
}

// PutModuleConfig writes settings of an add-on for partnerID (0 = default).
func (c *Client) PutModuleConfig(ctx context.Context, module string, partnerID int64, values map[string]string) error {
	if module == "" {
		return errors.New("splynx: module config: module name is required")
	}
	return c.send2xx(ctx, call{method: http.MethodPut, path: pathModuleConfig, query: moduleQuery(module, partnerID), body: values},
		"write config of module "+module)
}

func moduleQuery(module string, partnerID int64) string {
	var b strings.Builder
	param(&b, "module", "add-on")
	param(&b, "path", module)
	if partnerID > 0 {
		param(&b, "partner_id", strconv.FormatInt(partnerID, 10))
	}
	return b.String()
}

// Block names that hold the default partner's per-partner settings.
var defaultPartnerBlocks = map[string]bool{"default_partners_settings": true, "default": true, "0": true}

// Block names that wrap per-partner blocks keyed by partner id.
var partnerWrapperBlocks = map[string]bool{"per_partner_options": true, "partners": true, "partner": true}

func parseModuleConfig(raw []byte, partnerID int64) (map[string]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]string{}, nil
	}
	layers := configLayers{general: map[string]string{}, deflt: map[string]string{}, partner: map[string]string{}}
	pid := strconv.FormatInt(partnerID, 10)
	switch raw[0] {
	case '[':
		var entries []json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("decoding answer: %w", err)
		}
		for _, e := range entries {
			if err := layers.addEntry(e, pid); err != nil {
				return nil, err
			}
		}
	case '{':
		if err := layers.addObject(raw, pid, 0); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("answer is neither an object nor a list: %.40s", raw)
	}
	out := layers.general
	for k, v := range layers.deflt {
		out[k] = v
	}
	for k, v := range layers.partner {
		out[k] = v
	}
	return out, nil
}

type configLayers struct{ general, deflt, partner map[string]string }

// addObject merges an object of settings and blocks into the layers. depth
// 0 is the answer itself, where a nested object is a block.
func (l *configLayers) addObject(raw []byte, pid string, depth int) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("decoding answer: %w", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // blocks of the same layer merge in a fixed order
	for _, k := range keys {
		v := bytes.TrimSpace(m[k])
		if len(v) > 0 && v[0] == '{' && depth < 3 {
			if err := l.addBlock(k, v, pid, depth); err != nil {
				return err
			}
			continue
		}
		s, err := settingValue(v)
		if err != nil {
			return fmt.Errorf("setting %q: %w", k, err)
		}
		l.general[k] = s
	}
	return nil
}

func (l *configLayers) addBlock(name string, raw []byte, pid string, depth int) error {
	switch {
	case partnerWrapperBlocks[name]:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("decoding block %q: %w", name, err)
		}
		for k, v := range m {
			if err := l.addBlock(k, v, pid, depth+1); err != nil {
				return err
			}
		}
		return nil
	case defaultPartnerBlocks[name]:
		return flatInto(l.deflt, name, raw)
	case isDigits(name):
		if name == pid {
			return flatInto(l.partner, name, raw)
		}
		return nil // another partner's settings
	default:
		return l.addObject(raw, pid, depth+1)
	}
}

// flatInto copies a block's settings; nested objects inside are kept as JSON.
func flatInto(dst map[string]string, block string, raw []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("decoding block %q: %w", block, err)
	}
	for k, v := range m {
		s, err := settingValue(v)
		if err != nil {
			return fmt.Errorf("setting %q: %w", k, err)
		}
		dst[k] = s
	}
	return nil
}

func (l *configLayers) addEntry(raw []byte, pid string) error {
	var e struct {
		Key       text            `json:"key"`
		Name      text            `json:"name"`
		Value     json.RawMessage `json:"value"`
		PartnerID text            `json:"partner_id"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("decoding entry: %w", err)
	}
	key := string(e.Key)
	if key == "" {
		key = string(e.Name)
	}
	if key == "" {
		return nil
	}
	v, err := settingValue(e.Value)
	if err != nil {
		return fmt.Errorf("setting %q: %w", key, err)
	}
	switch p := string(e.PartnerID); {
	case p == "":
		l.general[key] = v
	case p == "0":
		l.deflt[key] = v
	case p == pid:
		l.partner[key] = v
	}
	return nil
}

// settingValue renders one JSON value as a setting string: numbers keep
// their text, booleans become "1"/"0", null "", arrays and objects their JSON.
func settingValue(v []byte) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", nil
	}
	switch string(v) {
	case "true":
		return "1", nil
	case "false":
		return "0", nil
	}
	if v[0] == '[' || v[0] == '{' {
		return string(v), nil
	}
	s, ok := scalarText(v)
	if !ok {
		return "", fmt.Errorf("unreadable value %.40s", v)
	}
	return s, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
