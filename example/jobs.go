package example

import "time"

// Resize scales a PNG image to a new width, keeping its aspect ratio. A
// second request for the same image name and width while one is active is
// not stored again.
//
//jobgen:job queue=media attempts=3 timeout=30s output=ResizeResult unique=Name,Width
type Resize struct {
	// Name identifies the image.
	Name string `json:"name"`
	// Image is the PNG to scale.
	Image []byte `json:"image"`
	// Width is the width of the result in pixels.
	Width int `json:"width"`
}

// ResizeResult is a scaled image.
type ResizeResult struct {
	// Image is the scaled PNG.
	Image  []byte `json:"image"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Report renders a plain-text order report.
//
//jobgen:job queue=reports output=ReportResult
type Report struct {
	Title string     `json:"title"`
	Lines []LineItem `json:"lines"`
}

// LineItem is one line of a Report.
type LineItem struct {
	Product  string  `json:"product"`
	Quantity int     `json:"quantity"`
	Price    float64 `json:"price"`
}

// ReportResult is a rendered report.
type ReportResult struct {
	Text  string  `json:"text"`
	Total float64 `json:"total"`
}

// SendMessage delivers one message through the Service's Sender. A Sender
// failure is retried after a short backoff; a message without a recipient
// fails at once.
//
//jobgen:job queue=messages attempts=5 backoff=10ms
type SendMessage struct {
	To   string `json:"to"`
	Body string `json:"body"`
}

// Crunch sums the squares of 1..Steps, one step every StepDelay, reporting
// its progress. It stops early when aborted.
//
//jobgen:job timeout=10m output=CrunchResult
type Crunch struct {
	Steps     int           `json:"steps"`
	StepDelay time.Duration `json:"step_delay"`
}

// CrunchResult is the outcome of a Crunch.
type CrunchResult struct {
	Sum int64 `json:"sum"`
}

// Heartbeat records that the service is alive. It is a periodic job:
// Register stores its schedule, and one of the servers sharing the storage
// runs it every 300 milliseconds (a real service would choose minutes).
//
//jobgen:job queue=maintenance every=300ms
type Heartbeat struct{}
