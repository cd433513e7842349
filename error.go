package silentcert

import (
	"errors"
	"fmt"
)

// Error codes. Each layer maps them in one place (HTTP statuses, exit codes).
const (
	EInvalid      = "invalid"      // the input breaks a rule; the message says which
	ENotFound     = "not_found"    // no such thing
	EConflict     = "conflict"     // the request contradicts the current state
	EUnauthorized = "unauthorized" // not allowed for this caller
	EInternal     = "internal"     // a fault of ours; logged with detail
	EUnavailable  = "unavailable"  // not now: the process is about to restart, and the same request then goes through
	EBusy         = "busy"         // a long write (a batch, the day's run) holds the database: nothing was done, try again later
)

// Error is the project's error: a code and a message fit to show the user.
type Error struct {
	Code    string
	Message string
	Err     error // wrapped cause, if any

	// Format and Args are what Errorf made Message of: a user interface words the
	// message in its reader's language by a catalogue keyed by the English format.
	Format string
	Args   []any
}

// Error returns the message.
func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message. A %w verb wraps.
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err), Format: format, Args: args}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EInternal
}
