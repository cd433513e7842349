package auth

// SetAfterVerify has f called between a login's password check and its transaction.
func SetAfterVerify(a *Service, f func()) { a.afterVerify = f }
