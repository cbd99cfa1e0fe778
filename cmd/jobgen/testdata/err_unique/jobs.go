package errunique

// Resize scales one image.
//
//jobgen:job unique=URL,Widht,secret,URL,Missing,Hook
type Resize struct {
	URL    string
	Width  int
	secret string
	Hook   func() `json:"-"`
}
