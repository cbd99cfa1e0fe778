// Package basic has one job with every marker key.
package basic

// Resize scales one image.
//
//jobgen:job kind=image.resize queue=media priority=-2 attempts=5 timeout=2m backoff=1500ms output=ResizeResult unique=URL,Width
type Resize struct {
	URL   string `json:"url"`
	Width int    `json:"width"`
}

// ResizeResult is where the scaled image went.
type ResizeResult struct {
	URL string `json:"url"`
}
