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
		if !strings.Contains(msg, "code=E_MOBILE_REJECTED") {
			t.Errorf("HTTP %d: the gateway's error code is lost: %s", status, msg)
		}
	}
	for answer, want := range map[string]string{
		`{"error":"mobile 138-1234-5678 rejected"}`:                       "body withheld (41 bytes)",
		`{"msg":"\u5f20\u4e09\u60a8\u597d, code 348766","errcode":40013}`: "errcode=40013",
		`content=%E5%BC%A0%E4%B8%89&mobile=13812345678`:                   "body withheld (45 bytes)",
		`{"code":"13812345678","status":"Zhang San"}`:                     "body withheld (43 bytes)",
		`{"code":0,"result":"rate_limited"}`:                              "code=0 result=rate_limited",
	} {
		if got := short([]byte(answer)); got != want {
			t.Errorf("short(%s) = %q, want %q", answer, got, want)
		}
	}
}
