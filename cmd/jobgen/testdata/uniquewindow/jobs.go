// Package uniquewindow has a job whose unique key holds for a window.
package uniquewindow

// Digest sends one digest per user per day.
//
//jobgen:job unique=User uniquefor=24h
type Digest struct {
	User string `json:"user"`
}

// Refresh refreshes a feed; its keys come from each submit.
//
//jobgen:job uniquefor=90s
type Refresh struct {
	Feed string `json:"feed"`
}
