package splynx

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// AdditionalField is a custom-field definition (admin/config/additional-fields/{module}).
type AdditionalField struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	Type         string `json:"type"` // string | integer | decimal | boolean | select | ...
	Module       string `json:"module,omitempty"`
	DefaultValue string `json:"default_value"`
	SelectValues string `json:"select_values,omitempty"`
	IsRequired   Flag   `json:"is_required"`
	IsUnique     Flag   `json:"is_unique"`
	IsAdd        Flag   `json:"is_add"`
	ShowInList   Flag   `json:"show_in_list"`
	Searchable   Flag   `json:"searchable"`
	Readonly     Flag   `json:"readonly"`
	Disabled     Flag   `json:"disabled"`
	Hidden       Flag   `json:"hidden"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (f *AdditionalField) UnmarshalJSON(b []byte) error {
	type Plain AdditionalField
	aux := struct {
		*Plain
		Name         *text `json:"name"`
		Title        *text `json:"title"`
		Type         *text `json:"type"`
		Module       *text `json:"module"`
		DefaultValue *text `json:"default_value"`
		SelectValues *text `json:"select_values"`
	}{(*Plain)(f), (*text)(&f.Name), (*text)(&f.Title), (*text)(&f.Type), (*text)(&f.Module),
		(*text)(&f.DefaultValue), (*text)(&f.SelectValues)}
	return json.Unmarshal(b, &aux)
}

// Module is an entry of Config → Integrations → Modules list
// (admin/config/modules); an add-on's module name is its config path.
type Module struct {
	Module string `json:"module"`
	Title  string `json:"title"`
	Root   string `json:"root"`
	Type   string `json:"type"`
	Icon   string `json:"icon"`
	Path   string `json:"path"`
	Status string `json:"status"` // entry points status for the portal
}

// UnmarshalJSON tolerates Splynx's loose types.
func (m *Module) UnmarshalJSON(b []byte) error {
	type Plain Module
	aux := struct {
		*Plain
		Module *text `json:"module"`
		Title  *text `json:"title"`
		Root   *text `json:"root"`
		Type   *text `json:"type"`
		Icon   *text `json:"icon"`
		Path   *text `json:"path"`
		Status *text `json:"status"`
	}{(*Plain)(m), (*text)(&m.Module), (*text)(&m.Title), (*text)(&m.Root), (*text)(&m.Type),
		(*text)(&m.Icon), (*text)(&m.Path), (*text)(&m.Status)}
	return json.Unmarshal(b, &aux)
}

// ListAdditionalFields returns the custom-field definitions of a module
// ("customers", "invoices", "payments", "requests", ...).
func (c *Client) ListAdditionalFields(ctx context.Context, module string) ([]AdditionalField, error) {
	return getList[AdditionalField](c, ctx, call{method: http.MethodGet, path: pathAdditionalFields + "/" + url.PathEscape(module)},
		"additional fields of "+module)
}

// CreateAdditionalField defines a custom field in a module.
func (c *Client) CreateAdditionalField(ctx context.Context, module string, f AdditionalField) error {
	if f.Name == "" || f.Title == "" || f.Type == "" {
		return errors.New("splynx: create additional field: name, title and type are required")
	}
	_, err := c.create(ctx, pathAdditionalFields+"/"+url.PathEscape(module), "additional field "+module+"/"+f.Name, f)
	return err
}

// ListModules returns the Modules list entries.
func (c *Client) ListModules(ctx context.Context) ([]Module, error) {
	return getList[Module](c, ctx, call{method: http.MethodGet, path: pathModules}, "modules")
}

// GetModule reads one Modules list entry by module name.
func (c *Client) GetModule(ctx context.Context, name string) (Module, error) {
	return getRecord[Module](c, ctx, pathModules+"/"+url.PathEscape(name), "module "+name)
}

// CreateModule adds a Modules list entry.
func (c *Client) CreateModule(ctx context.Context, m Module) error {
	if m.Module == "" || m.Title == "" {
		return errors.New("splynx: create module: module name and title are required")
	}
	_, err := c.create(ctx, pathModules, "module "+m.Module, m)
	return err
}

// UpdateModule changes fields of a Modules list entry.
func (c *Client) UpdateModule(ctx context.Context, name string, fields map[string]any) error {
	return c.send2xx(ctx, call{method: http.MethodPut, path: pathModules + "/" + url.PathEscape(name), body: fields},
		"update module "+name)
}
