package notice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silentcert/silentcert/store"
)

// Gateway hands one notice to an SMS provider and returns the provider's id for it. An
// error wrapped by Permanent means trying again cannot help (the number is refused, the
// request is malformed); any other error is retried with backoff. The notice's ID is
// stable across retries, so a provider may use it to drop a duplicate.
type Gateway interface {
	Send(ctx context.Context, n store.Notice) (id string, err error)
}

// PermanentError is a gateway's answer that no retry can change.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as a failure no retry can change, so that the sender gives up at
// once instead of spending the remaining attempts.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err (or its chain) was marked by Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// message is what both gateways write for one notice: the provider needs no more, and no
// more personal data leaves the service than the SMS itself carries.
type message struct {
	ID    int64  `json:"id"`
	Phone string `json:"phone"`
	Text  string `json:"text"`
}

// Webhook sends each notice as an HTTP POST of JSON {"id", "phone", "text"} to URL: a 2xx
// answer is sent (a JSON body's string "id", if any, is kept as the provider's id), 408,
// 429 and 5xx answers and network errors are retried, any other 4xx fails for good.
type Webhook struct {
	URL     string
	Token   string        // sent as "Authorization: Bearer TOKEN" when set; never logged
	Timeout time.Duration // per request; 10 s when zero
	Client  *http.Client  // http.DefaultClient when nil
}

// Send posts one notice.
func (w *Webhook) Send(ctx context.Context, n store.Notice) (string, error) {
	body, err := json.Marshal(message{ID: n.ID, Phone: n.Phone, Text: n.Text})
	if err != nil {
		return "", Permanent(err)
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return "", Permanent(fmt.Errorf("webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "notice-"+strconv.FormatInt(n.ID, 10))
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		var out struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(answer, &out) != nil {
			out.ID = ""
		}
		return out.ID, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return "", fmt.Errorf("webhook: HTTP %d: %s", c, short(answer))
	default:
		return "", Permanent(fmt.Errorf("webhook: HTTP %d: %s", c, short(answer)))
	}
}

// short is what of a gateway's refusal goes into last_error and the log: never its body,
// for many gateways quote the request back (the phone, the name, the login code), spelt
// in ways no scrubbing can know ("138-1234-5678", "\u5f20\u4e09", URL-encoded, base64);
// only the values of a JSON answer's error-code fields that look like codes
// (errcode=E_MOBILE_REJECTED), or "body withheld" with its length.
func short(b []byte) string {
	var fields map[string]json.RawMessage
	var codes []string
	if json.Unmarshal(b, &fields) == nil {
		for _, k := range codeFields {
			raw, ok := fields[k]
			if !ok {
				continue
			}
			var v any
			if json.Unmarshal(raw, &v) != nil {
				continue
			}
			var c string
			switch v := v.(type) {
			case string:
				c = v
			case float64:
				if v == float64(int64(v)) && v > -1e6 && v < 1e6 {
					c = strconv.FormatInt(int64(v), 10)
				}
			}
			if codeLike(c) {
				codes = append(codes, k+"="+c)
			}
		}
	}
	if len(codes) == 0 {
		return fmt.Sprintf("body withheld (%d bytes)", len(b))
	}
	return strings.Join(codes, " ")
}

// codeFields are the keys gateways put their error codes under, in the order shown.
var codeFields = []string{"code", "errcode", "err_code", "error_code", "errorCode", "status", "result"}

// codeLike reports whether s reads as an error code rather than words or data: 1 to 32
// ASCII letters, digits, '_', '.', '-', of which at most 5 digits (a code, not a phone
// or a six-digit login code).
func codeLike(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return digits <= 5
}

// File appends each notice as a JSON line {"id", "phone", "text"} to the file at Path and
// syncs it: the gateway of tests and of the demo, where the "sent" SMS can be read back.
type File struct {
	Path string
	mu   sync.Mutex
}

// Send appends one line.
func (f *File) Send(ctx context.Context, n store.Notice) (string, error) {
	line, err := json.Marshal(message{ID: n.ID, Phone: n.Phone, Text: n.Text})
	if err != nil {
		return "", Permanent(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, err := os.OpenFile(f.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("file gateway: %w", err)
	}
	_, err = fh.Write(append(line, '\n'))
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("file gateway: %w", err)
	}
	return "file:" + strconv.FormatInt(n.ID, 10), nil
}
