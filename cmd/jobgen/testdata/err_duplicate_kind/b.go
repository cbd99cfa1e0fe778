package errduplicatekind

// Notify claims the same kind as Mailer, in another file.
//
//jobgen:job kind=send_email queue=notify
type Notify struct{}
