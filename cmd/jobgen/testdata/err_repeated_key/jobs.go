package errrepeatedkey

// Email sends mail.
//
//jobgen:job queue=email attempts=5 queue=mail
type Email struct{}
