package errduplicatekind

// SendEmail sends mail.
//
//jobgen:job
type SendEmail struct{}

// Mailer claims the kind that SendEmail derives.
//
//jobgen:job kind=send_email
type Mailer struct{}
