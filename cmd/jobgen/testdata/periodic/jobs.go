package periodic

// Cleanup deletes expired sessions every quarter of an hour.
//
//jobgen:job queue=maintenance every=15m
type Cleanup struct {
	Limit int `json:"limit"`
}

// Digest mails the daily digest at three in the morning, Paris time.
//
//jobgen:job cron="0 3 * * *" tz=Europe/Paris output=DigestResult
type Digest struct {
	List string `json:"list"`
}

// DigestResult counts the mails sent.
type DigestResult struct {
	Sent int `json:"sent"`
}

// Ping is not periodic.
//
//jobgen:job
type Ping struct{}
