// Package form reads the body of a page's POST as a form: bounded, and never a multipart
// body, whose file parts the server would spool to disk for as long as the sender keeps
// the request open (and, parsed on a copy of the server's request, leave there for good).
package form

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// ErrMultipart is Read's refusal of a multipart body: the forms send no file.
var ErrMultipart = errors.New("a multipart body: the form sends no file")

// Read reads r's form before anything else reads its body: a multipart body is refused
// unread (ErrMultipart, the form left empty so that nothing later parses the body), and a
// body past most fails with an *http.MaxBytesError; any other error is the body's own.
func Read(w http.ResponseWriter, r *http.Request, most int64) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		r.Form, r.PostForm = url.Values{}, url.Values{}
		return ErrMultipart
	}
	r.Body = http.MaxBytesReader(w, r.Body, most)
	return r.ParseForm()
}
