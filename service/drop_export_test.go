package service

// SetDropBeforeMove sets a function the drop folder calls after a file's batch, just before
// it checks the file again and moves it (to change the file there); the function returned
// unsets it.
func SetDropBeforeMove(f func(src, name string)) (unset func()) {
	dropBeforeMove = f
	return func() { dropBeforeMove = nil }
}
