package notice

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store"
)

// TestWebhookErrorKeepsNoPersonalData: a gateway that refuses a message by quoting the
// request back leaves no phone, name, code or ID number in the error that is logged and
// stored, and keeps its own words.
func TestWebhookErrorKeepsNoPersonalData(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusServiceUnavailable} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(status)
			w.Write([]byte(`{"code":"E_MOBILE_REJECTED","error":"mobile rejected: ` + strings.ReplaceAll(string(b), `"`, `'`) + `"}`))
		}))
		_, err := (&Webhook{URL: srv.URL}).Send(context.Background(), store.Notice{ID: 1, Phone: "13812345678",
			Text: "张三丰您好:您的验证码是123456,身份证 37100219380210002X"})
		srv.Close()
		if err == nil {
			t.Fatal("a refusal read as sent")
		}
		msg := err.Error()
		for _, secret := range []string{"13812345678", "张三丰", "123456", "3710021938", "验证码"} {
			if strings.Contains(msg, secret) {
				t.Errorf("HTTP %d: the error keeps %q: %s", status, secret, msg)
			}
		}
		if !strings.Contains(msg, "E_MOBILE_REJECTED") || !strings.Contains(msg, "mobile rejected") {
			t.Errorf("HTTP %d: the gateway's own words are lost: %s", status, msg)
		}
	}
	if got, want := short([]byte("quota 1234 left; id 12345678 张三 x\nsecond line")), "quota 1234 left; id … … x"; got != want {
		t.Errorf("short: %q, want %q", got, want)
	}
}
