package errschedule

// Bad has a cron expression with a minute out of range.
//
//jobgen:job cron="61 3 * * *"
type Bad struct{}

// Zone names a zone that does not exist.
//
//jobgen:job cron=@daily tz=Mars/Olympus
type Zone struct{}

// Both declares two schedules.
//
//jobgen:job every=1h cron="0 * * * *"
type Both struct{}

// Lonely has a zone without a cron expression.
//
//jobgen:job every=1h tz=UTC
type Lonely struct{}

// Open leaves its quote open.
//
//jobgen:job cron="0 3 * * *
type Open struct{}

// Escape has a bad escape and a too short interval.
//
//jobgen:job cron="\q"
type Escape struct{}

// Fast ticks too often.
//
//jobgen:job every=1us
type Fast struct{}
