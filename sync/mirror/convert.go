package mirror

import (
	"strconv"

	"github.com/splynx-pay/splynx-pay/splynx"
	"github.com/splynx-pay/splynx-pay/store"
)

// The mirror keeps its own record types so that store depends on nothing
// of the API client; these functions are the only place the two meet.

func convertCustomer(c splynx.Customer) store.Customer {
	return store.Customer{
		ID:           int64(c.ID),
		Login:        c.Login,
		Name:         c.Name,
		Email:        c.Email,
		BillingEmail: c.BillingEmail,
		Phone:        c.Phone,
		Category:     c.Category,
		Status:       c.Status,
		BillingType:  c.BillingType,
		PartnerID:    int64(c.PartnerID),
		LocationID:   int64(c.LocationID),
		Street1:      c.Street1,
		Street2:      c.Street2,
		City:         c.City,
		ZipCode:      c.ZipCode,
		DateAdd:      c.DateAdd.Time(),
		LastUpdate:   c.LastUpdate.Time(),
		Additional:   c.AdditionalAttributes,
	}
}

func convertBilling(b splynx.CustomerBilling) store.Billing {
	return store.Billing{
		CustomerID:    int64(b.CustomerID),
		Enabled:       bool(b.Enabled),
		Type:          b.Type,
		Deposit:       b.Deposit.Amount(),
		PaymentMethod: int64(b.PaymentMethod),
		BillingDate:   strconv.FormatInt(int64(b.BillingDate), 10),
		BillingDue:    strconv.FormatInt(int64(b.BillingDue), 10),
		MinBalance:    b.MinBalance.Amount(),
	}
}

func convertItems(its []splynx.InvoiceItem) []store.Item {
	if len(its) == 0 {
		return nil
	}
	out := make([]store.Item, len(its))
	for i, it := range its {
		out[i] = store.Item{
			ID:          int64(it.ID),
			Description: it.Description,
			Quantity:    it.Quantity,
			Unit:        it.Unit,
			Price:       it.Price.Amount(),
			Tax:         it.Tax,
			PeriodFrom:  it.PeriodFrom.Time(),
			PeriodTo:    it.PeriodTo.Time(),
		}
	}
	return out
}

func convertInvoice(v splynx.Invoice) store.Invoice {
	return store.Invoice{
		ID:                 int64(v.ID),
		CustomerID:         int64(v.CustomerID),
		Number:             v.Number,
		DateCreated:        v.DateCreated.Time(),
		RealCreateDatetime: v.RealCreateDatetime.Time(),
		DateUpdated:        v.DateUpdated.Time(),
		DatePayment:        v.DatePayment.Time(),
		DateTill:           v.DateTill.Time(),
		Total:              v.Total.Amount(),
		Due:                v.Due.Amount(),
		Status:             v.Status,
		PaymentID:          int64(v.PaymentID),
		Type:               v.Type,
		Note:               v.Note,
		Memo:               v.Memo,
		Additional:         v.AdditionalAttributes,
		Items:              convertItems(v.Items),
	}
}

func convertProforma(v splynx.Proforma) store.Proforma {
	return store.Proforma{
		ID:                 int64(v.ID),
		CustomerID:         int64(v.CustomerID),
		Number:             v.Number,
		DateCreated:        v.DateCreated.Time(),
		RealCreateDatetime: v.RealCreateDatetime.Time(),
		DateUpdated:        v.DateUpdated.Time(),
		DatePayment:        v.DatePayment.Time(),
		DateTill:           v.DateTill.Time(),
		Total:              v.Total.Amount(),
		Status:             v.Status,
		PaymentID:          int64(v.PaymentID),
		Note:               v.Note,
		Memo:               v.Memo,
		Items:              convertItems(v.Items),
	}
}

func convertPaymentMethod(m splynx.PaymentMethod) store.PaymentMethod {
	return store.PaymentMethod{
		ID:       int64(m.ID),
		Name:     m.Name,
		IsActive: bool(m.IsActive),
		Names:    [5]string{m.Name1, m.Name2, m.Name3, m.Name4, m.Name5},
	}
}
