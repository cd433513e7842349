package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
)

// saidError is an error the console words in the reader's language: a message key of the
// catalogues and its arguments. Error gives the English (logs, tests); the error page the
// user's words. Forms a village assistant fills on a phone answer so, not in English.
type saidError struct {
	err  *sc.Error
	key  string
	args []any
}

func (e *saidError) Error() string { return e.err.Message }
func (e *saidError) Unwrap() error { return e.err }

// said makes a saidError of code with the message key's English words.
func said(code, key string, args ...any) error {
	return &saidError{err: &sc.Error{Code: code, Message: fmt.Sprintf(english()[key], args...)}, key: key, args: args}
}

var english = sync.OnceValue(func() map[string]string {
	cats, err := loadCatalogs()
	if err != nil {
		return map[string]string{}
	}
	return cats["en"]
})

// saidIn returns err's words in the language of msgs, when it is a saidError or an
// sc.Error whose English format the catalogue words (the accounts' and keys' refusals,
// made in package auth, are keyed so).
func saidIn(err error, msgs map[string]string) (string, bool) {
	var se *saidError
	if errors.As(err, &se) {
		m, ok := msgs[se.key]
		if !ok {
			return se.err.Message, true
		}
		return fmt.Sprintf(m, se.args...), true
	}
	var e *sc.Error
	if errors.As(err, &e) && e.Format != "" {
		if m, ok := msgs[e.Format]; ok {
			return fmt.Sprintf(m, e.Args...), true
		}
	}
	return "", false
}

// words is err's message for the reader of r: in their language where the catalogue has
// it, else the error's own (English) message.
func (c *console) words(r *http.Request, err error) string {
	if m, ok := saidIn(err, c.cat[reqOf(r).lang]); ok {
		return m
	}
	var e *sc.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// formReason reads a form's required reason from field: trimmed, 1 to 500 characters.
func formReason(r *http.Request, field string) (string, error) {
	reason := strings.TrimSpace(r.PostFormValue(field))
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return "", said(sc.EInvalid, "form.reason")
	}
	return reason, nil
}
