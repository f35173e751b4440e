package splynx

import (
	"context"
	"encoding/json"
	"net/http"
)

// Partner is admin/administration/partners.
type Partner struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (p *Partner) UnmarshalJSON(b []byte) error {
	type Plain Partner
	aux := struct {
		*Plain
		Name *text `json:"name"`
	}{(*Plain)(p), (*text)(&p.Name)}
	return json.Unmarshal(b, &aux)
}

// Location is admin/administration/locations.
type Location struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// UnmarshalJSON tolerates Splynx's loose types.
func (l *Location) UnmarshalJSON(b []byte) error {
	type Plain Location
	aux := struct {
		*Plain
		Name *text `json:"name"`
	}{(*Plain)(l), (*text)(&l.Name)}
	return json.Unmarshal(b, &aux)
}

// ListPartners returns every partner.
func (c *Client) ListPartners(ctx context.Context) ([]Partner, error) {
	return getList[Partner](c, ctx, call{method: http.MethodGet, path: pathPartners}, "partners")
}

// ListLocations returns every location.
func (c *Client) ListLocations(ctx context.Context) ([]Location, error) {
	return getList[Location](c, ctx, call{method: http.MethodGet, path: pathLocations}, "locations")
}
