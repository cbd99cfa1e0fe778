package errnonstruct

// SendEmail is a function, not a struct.
//
//jobgen:job
func SendEmail() {}

// Status is an integer type.
//
//jobgen:job
type Status int

// Sender is an interface.
//
//jobgen:job
type Sender interface{ Send() error }

// Alias is an alias of a struct type.
//
//jobgen:job
type Alias = Real

// Real is a struct that is not a job.
type Real struct {
	// Field is documented.
	//
	//jobgen:job
	Field int
}

// Limit is a constant.
//
//jobgen:job
const Limit = 3

//jobgen:job

// Free is preceded by a free-floating directive.
type Free struct{}

// Recv has a method.
type Recv struct{}

// Do is a method.
//
//jobgen:job
func (Recv) Do() {}

// Group documents a group of several types.
//
//jobgen:job
type (
	One struct{}
	Two struct{}
)

// Vars documents a group of variables.
//
//jobgen:job
var (
	A = 1
	B = 2
)

// Local declares a type inside a function.
func Local() {
	// Inner is local.
	//
	//jobgen:job
	type Inner struct{}
	_ = Inner{}
}
