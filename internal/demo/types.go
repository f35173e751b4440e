package demo

import "github.com/splynx-pay/splynx-pay/splynx/splynxsim"

type (
	splynxInvoice  = splynxsim.Invoice
	splynxCustomer = splynxsim.Customer
)
