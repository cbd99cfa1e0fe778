// Package typedids has two kinds whose ids must not mix: each kind's id is
// a type of its own.
package typedids

import "context"

// Charge charges a card.
//
//jobgen:job output=Receipt
type Charge struct {
	Cents int64 `json:"cents"`
}

// Receipt is a charge's outcome.
type Receipt struct {
	Number string `json:"number"`
}

// Email sends an email.
//
//jobgen:job
type Email struct {
	To string `json:"to"`
}

// WaitCharge waits for the charge whose id came in as a plain integer: one
// explicit conversion makes it a ChargeID.
func WaitCharge(ctx context.Context, charges ChargeClient, n int64) (Receipt, error) {
	return charges.WaitFor(ctx, ChargeID(n))
}

// PlainID returns the plain id of a submitted email, to hand out.
func PlainID(h EmailHandle) int64 { return int64(h.ID) }
