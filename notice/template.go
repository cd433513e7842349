package notice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	sc "github.com/silentcert/silentcert"
)

// Notice kinds: the moments at which a person (and their agent) is told something.
const (
	KindWarning   = "warning"   // the warning window opened: certify before the deadline
	KindPending   = "pending"   // the period ran out: certify before payment is suspended
	KindSuspended = "suspended" // payment is suspended: how to resume it
	KindCertified = "certified" // certified silently after a reminder: nothing more to do (off by default)
)

// Kinds lists every notice kind, in the order of a person's path through the clock.
var Kinds = []string{KindWarning, KindPending, KindSuspended, KindCertified}

// agentSuffix names the variant of a kind's template sent to the agent's phone (代办人),
// which speaks about the person instead of to them.
const agentSuffix = "_agent"

// LinkSlot stands in a queued notice's text for the one-time sign-in link the Sender
// makes when it sends the notice (Config.SignIn).
const LinkSlot = "{link}"

// Templates maps a template key to its text: each kind, each kind with "_agent" (the text
// sent to the agent's phone), and the two how-to snippets that {how} expands to ("how"
// when no link is configured, "how_link" when one is). Placeholders are written {name}.
type Templates map[string]string

// placeholders lists the placeholders each key may use: a typo in a configured template
// is caught when the file is loaded, not when the first SMS goes out.
func placeholders(key string) []string {
	if key == "how" || key == "how_link" {
		return []string{"link"}
	}
	return []string{"name", "deadline", "until", "day", "how", "link"}
}

// DefaultTemplates returns the built-in zh-CN texts. Signatures (【…】) are left to the
// gateway, which in China adds the sender's registered signature itself.
func DefaultTemplates() Templates {
	return Templates{
		KindWarning:                 "{name}您好：您的养老保险待遇领取资格认证将到期，请最迟于{deadline}完成认证，逾期将暂停发放待遇。{how}。",
		KindWarning + agentSuffix:   "您好：您代办的{name}的养老保险待遇领取资格认证将到期，请协助其最迟于{deadline}完成认证，逾期将暂停发放待遇。{how}。",
		KindPending:                 "{name}您好：您的养老保险待遇领取资格认证已到期，请最迟于{deadline}完成认证，逾期将暂停发放待遇。{how}。",
		KindPending + agentSuffix:   "您好：您代办的{name}的养老保险待遇领取资格认证已到期，请协助其最迟于{deadline}完成认证，逾期将暂停发放待遇。{how}。",
		KindSuspended:               "{name}您好：因未按期完成资格认证，您的养老保险待遇自{day}起暂停发放。完成认证后即恢复发放，暂停期间的待遇将予补发。{how}。",
		KindSuspended + agentSuffix: "您好：因未按期完成资格认证，您代办的{name}的养老保险待遇自{day}起暂停发放。完成认证后即恢复发放，暂停期间的待遇将予补发。{how}。",
		KindCertified:               "{name}您好：您已通过养老保险待遇领取资格静默认证，有效期至{until}，无需再办理。",
		KindCertified + agentSuffix: "您好：您代办的{name}已通过养老保险待遇领取资格静默认证，有效期至{until}，无需再办理。",
		"how":                       "可在“掌上12333”App人脸识别认证，或携带身份证到村（社区）便民服务点办理",
		"how_link":                  "可在“掌上12333”App或{link}人脸识别认证，或携带身份证到村（社区）便民服务点办理",
	}
}

// knownKey reports whether key is a template key this package uses.
func knownKey(key string) bool {
	if key == "how" || key == "how_link" {
		return true
	}
	for _, k := range Kinds {
		if key == k || key == k+agentSuffix {
			return true
		}
	}
	return false
}

// LoadTemplates reads a JSON object of template key → text from path and returns the
// defaults with those keys replaced. An unknown key, an empty text or an unknown
// placeholder is an error that names the file and the key.
func LoadTemplates(path string) (Templates, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, sc.Errorf(sc.EInvalid, "notice templates: %w", err)
	}
	return ParseTemplates(path, b)
}

// ParseTemplates is LoadTemplates on bytes already read; name is used in messages.
func ParseTemplates(name string, b []byte) (Templates, error) {
	var in map[string]string
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&in); err != nil {
		return nil, sc.Errorf(sc.EInvalid, "%s: want a JSON object of template key → text: %v", name, err)
	}
	t := DefaultTemplates()
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first error is the same every time
	for _, k := range keys {
		if !knownKey(k) {
			return nil, sc.Errorf(sc.EInvalid, "%s: unknown template key %q (want one of %s)", name, k, strings.Join(allKeys(), ", "))
		}
		t[k] = in[k]
	}
	if err := t.Validate(); err != nil {
		return nil, sc.Errorf(sc.EInvalid, "%s: %v", name, err)
	}
	return t, nil
}

func allKeys() []string {
	var out []string
	for _, k := range Kinds {
		out = append(out, k, k+agentSuffix)
	}
	return append(out, "how", "how_link")
}

// Validate reports the first key that is missing, empty, or uses a placeholder it may
// not (an unknown name, or {how} inside the how-to text itself).
func (t Templates) Validate() error {
	for _, k := range allKeys() {
		text, ok := t[k]
		if !ok || strings.TrimSpace(text) == "" {
			return fmt.Errorf("template %q is empty", k)
		}
		allowed := placeholders(k)
		rest := text
		for {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				return fmt.Errorf("template %q: a { is never closed", k)
			}
			name := rest[i+1 : i+j]
			ok := false
			for _, a := range allowed {
				ok = ok || a == name
			}
			if !ok {
				return fmt.Errorf("template %q: unknown placeholder {%s} (allowed: {%s})", k, name, strings.Join(allowed, "} {"))
			}
			rest = rest[i+j+1:]
		}
	}
	return nil
}

// render replaces the placeholders of t[key]; {how} is rendered first from the how-to key.
func (t Templates) render(key string, v map[string]string) string {
	pairs := make([]string, 0, 2*len(v))
	for _, name := range []string{"name", "deadline", "until", "day", "link"} {
		pairs = append(pairs, "{"+name+"}", v[name])
	}
	how := "how"
	if v["link"] != "" {
		how = "how_link"
	}
	// One pass over the template: a value (a name) is never scanned for placeholders.
	pairs = append(pairs, "{how}", strings.NewReplacer(pairs...).Replace(t[how]))
	return strings.NewReplacer(pairs...).Replace(t[key])
}

// FormatDate writes a day the way the notices do: 2025年3月31日.
func FormatDate(d sc.Date) string {
	y, m, day := d.Civil()
	return strconv.Itoa(y) + "年" + strconv.Itoa(m) + "月" + strconv.Itoa(day) + "日"
}
