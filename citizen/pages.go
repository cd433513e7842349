package citizen

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"

	sc "github.com/silentcert/silentcert"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/*
var staticFiles embed.FS

const (
	langZH = "zh"
	langEN = "en"
)

// messages is the string catalogue: zh-CN first, English beside it. A key missing in
// English falls back to Chinese; a key missing in both shows the key, which a test catches.
var messages = map[string]map[string]string{
	langZH: {
		"title":            "养老金资格认证",
		"lang_other":       "English",
		"link_title":       "确认身份",
		"link_intro":       "请输入身份证号码的最后4位。",
		"last4":            "身份证号最后4位",
		"role_self":        "我是本人",
		"role_agent":       "我是代办人（子女或亲属）",
		"role_hint":        "代办人请选择第二项，验证码会发到登记的代办人手机。",
		"next":             "下一步",
		"login_title":      "登录",
		"login_intro":      "请输入领取人的身份证号码。",
		"id_number":        "身份证号码",
		"send_code":        "发送验证码",
		"code_title":       "输入验证码",
		"code_intro":       "如果这个身份证号码已登记手机，验证码已经用短信发出，5分钟内有效。",
		"code":             "6位验证码",
		"code_help":        "没收到验证码？代办人请确认选择了“我是代办人”且手机已在社保登记；也可以重新获取，或拨打 %s。",
		"code_again":       "重新获取验证码",
		"confirm":          "确认",
		"me_title":         "我的认证",
		"status":           "认证状态",
		"until":            "认证有效期至",
		"evidence":         "最近一次认证依据",
		"deadline":         "请在此日期前完成认证",
		"payment":          "养老金发放",
		"payable_yes":      "正常发放",
		"payable_no":       "暂停发放",
		"back_pay":         "恢复后补发",
		"months":           "个月",
		"yuan":             "元",
		"last_paid":        "最近发放月份",
		"how":              "怎样认证",
		"how_text":         "多数情况下不用您做任何事：看病、乘车、体检等记录会自动为您认证。需要时，点下面的大按钮，对着手机看2到3秒即可。",
		"how_due":          "请在上面的日期前认证，任选一种：点下面的大按钮刷脸；或用“掌上12333”手机应用；或带身份证到村（社区）服务点或社保经办机构。",
		"how_other":        "如有疑问，或认为情况不对，请拨打 %s 或到社保经办机构咨询。",
		"help":             "有疑问请拨打 %s，或到村（社区）服务点咨询。",
		"review_open":      "您提交的照片正在由工作人员核对，请耐心等待，不用再次提交。",
		"certify_now":      "现在刷脸认证",
		"needs_visit":      "刷脸没有成功，村（社区）工作人员会上门帮您认证。",
		"agent_note":       "您正在以代办人身份办理。",
		"logout":           "退出",
		"none":             "暂无",
		"capture_title":    "刷脸认证",
		"capture_intro":    "请在光线明亮的地方，把手机拿在脸的正前方。按“开始”后看着屏幕，自然地眨眨眼，2到3秒就好。家人帮忙时，可以由家人拿着手机。",
		"capture_start":    "开始",
		"capture_file":     "也可以拍一张照片上传，由工作人员核对：",
		"capture_send":     "上传照片",
		"cap_nocam":        "无法使用相机，请用下面的按钮拍一张照片上传。",
		"cap_look":         "请看着屏幕，眨一眨眼",
		"cap_shooting":     "正在拍照，请看着屏幕，眨一眨眼",
		"cap_dark":         "太暗了，照片没有发出。请到明亮的地方，再按“开始”。",
		"cap_expired":      "登录已经过期了。请重新登录，再做认证。",
		"cap_login":        "重新登录",
		"cap_lost":         "没有收到核对结果，可能是网络断了。请先点“我的认证”看看是否已经认证；没有的话，请点“再试一次”。仍有问题请拨打 %s。",
		"capture_limit":    "请在%d分钟内拍完。",
		"capture_wait":     "正在核对，请稍候……",
		"capture_notpad":   "说明：这里比对长相，并简单看看是不是真人在镜头前；它不能发现所有拿照片或视频冒充的情况。",
		"back":             "返回",
		"again":            "再试一次",
		"sms_code":         "【养老金认证】您的验证码是%s，%d分钟内有效。请勿告诉他人。",
		"sms_code_agent":   "【养老金认证】您代办%s的资格认证，验证码是%s，%d分钟内有效。请勿告诉他人；不是您在办理请勿理会，并告知社保经办机构。",
		"st_CERTIFIED":     "已认证",
		"st_WARNING":       "即将到期，请认证",
		"st_PENDING":       "待认证",
		"st_SUSPENDED":     "已暂停发放，认证后恢复",
		"st_LOSS":          "领取资格暂停，请联系社保经办机构",
		"st_TERMINATED":    "已终止",
		"st_CONFLICT":      "正在核实",
		"m_STRONG":         "部门数据",
		"m_WEAK":           "日常数据",
		"m_FACE":           "刷脸认证",
		"m_COUNTER":        "窗口认证",
		"m_COMMUNITY":      "上门核实",
		"m_MIGRATED":       "原来系统里的认证记录",
		"r_accept":         "认证成功！",
		"r_recorded":       "照片核对通过，已经记录。但您的领取资格还需要社保经办机构核实，请带身份证到社保经办机构，或联系村（社区）。",
		"r_review":         "照片已提交，工作人员会尽快核对。核对结果请回到“我的认证”查看，不用再次提交。",
		"r_retry":          "这次没有拍好，请再试一次。",
		"r_reject":         "没有认证成功。请换个光线明亮的地方，看着屏幕眨眨眼再试；多次不成功，村（社区）工作人员会上门帮您认证。",
		"r_visit":          "没有认证成功。村（社区）工作人员会上门帮您认证。",
		"r_refused":        "本次认证已失效，请重新开始。",
		"r_pending":        "照片已经收到，正在核对。请过一会儿点“我的认证”查看结果，不用再次提交。",
		"r_too_many":       "今天尝试次数太多，请明天再试，或联系村（社区）。",
		"why_no_face":      "没有看到人脸。请正对手机。",
		"why_many_faces":   "画面里有不止一个人，请只让领取人入镜。",
		"why_face_small":   "脸太小了，请把手机靠近一些。",
		"why_blurred":      "照片模糊，请拿稳手机。",
		"why_too_dark":     "太暗了，请到明亮的地方。",
		"why_too_bright":   "太亮了，请避开强光。",
		"why_bad_image":    "照片无法读取，请重新拍摄。",
		"why_frames":       "请拍1到5张照片。",
		"why_too_large":    "照片文件太大，传不上来。请点“再试一次”，用“开始”按钮拍；不行的话，请家人帮忙把照片改小一些再传。",
		"until_is":         "认证有效期至 %s。",
		"msg_link_invalid": "这个链接已失效或已使用。请用身份证号码登录。",
		"msg_link_locked":  "身份证号输错次数太多，这个链接已锁定。请用身份证号码登录。",
		"msg_code_expired": "验证码已失效，请重新获取。",
		"msg_too_many":     "操作太频繁，请稍后再试。",
		"msg_internal":     "系统繁忙，请稍后再试。",
		"msg_unavailable":  "刷脸认证暂时不可用，请稍后再试或联系村（社区）。",
		"msg_face_status":  "您的情况需要社保经办机构核实，不能在手机上刷脸认证。请带身份证到社保经办机构，或联系村（社区）。",
		"msg_face_review":  "您提交的照片正在由工作人员核对，请耐心等待，不用再次提交。",
		"err_wrong_digits": "身份证号最后4位不对，请再试。",
		"err_wrong_code":   "验证码不对，请再试。",
		"err_bad_id":       "身份证号码格式不对，请检查。",
	},
	langEN: {
		"title":            "Pension certification",
		"lang_other":       "中文",
		"link_title":       "Confirm who you are",
		"link_intro":       "Enter the last 4 characters of the ID number.",
		"last4":            "Last 4 of the ID number",
		"role_self":        "I am the pensioner",
		"role_agent":       "I am helping (a relative or agent)",
		"role_hint":        "Helpers choose the second: the code goes to the helper's phone on file.",
		"next":             "Next",
		"login_title":      "Log in",
		"login_intro":      "Enter the pensioner's ID number.",
		"id_number":        "ID number",
		"send_code":        "Send code",
		"code_title":       "Enter the code",
		"code_intro":       "If this ID number has a phone on file, a code was sent by SMS; it is valid for 5 minutes.",
		"code":             "6-digit code",
		"code_help":        "No code? A helper must choose \"I am helping\" and have a phone on file with the pension office; you can ask for a new code, or call %s.",
		"code_again":       "Get a new code",
		"confirm":          "Confirm",
		"me_title":         "My certification",
		"status":           "Status",
		"until":            "Certified until",
		"evidence":         "Last certified by",
		"deadline":         "Certify by",
		"payment":          "Pension payment",
		"payable_yes":      "Being paid",
		"payable_no":       "Suspended",
		"back_pay":         "Back pay on resumption",
		"months":           "months",
		"yuan":             "yuan",
		"last_paid":        "Last month paid",
		"how":              "How to certify",
		"how_text":         "Usually nothing is needed: hospital, transport and check-up records certify you. When needed, press the big button and look at the phone for 2–3 seconds.",
		"how_due":          "Please certify by the date above, in any one way: press the big button below; or use the 12333 phone app; or bring the ID card to the village (community) service point or the pension office.",
		"how_other":        "If you have questions, or think this is wrong, call %s or visit the pension office.",
		"help":             "Questions? Call %s, or ask at the village (community) service point.",
		"review_open":      "Staff are checking the photos you sent: please wait, there is no need to send them again.",
		"certify_now":      "Certify with my face now",
		"needs_visit":      "The face check did not succeed; the village will visit to help.",
		"agent_note":       "You are acting as a helper.",
		"logout":           "Log out",
		"none":             "none",
		"capture_title":    "Face certification",
		"capture_intro":    "Somewhere with good light, hold the phone in front of your face. After pressing Start, look at the screen and blink naturally; it takes 2–3 seconds. A relative helping may hold the phone for you.",
		"capture_start":    "Start",
		"capture_file":     "Or take a photo and upload it; staff will check it:",
		"capture_send":     "Upload",
		"cap_nocam":        "The camera cannot be used: take a photo with the button below.",
		"cap_look":         "Look at the screen and blink",
		"cap_shooting":     "Taking pictures: look at the screen and blink",
		"cap_dark":         "Too dark: nothing was sent. Find more light, then press Start again.",
		"cap_expired":      "Your sign-in has ended. Please sign in again, then certify.",
		"cap_login":        "Sign in again",
		"cap_lost":         "No answer came back; the connection may have dropped. First look at My certification; if you are not certified, press Try again. Questions: call %s.",
		"capture_limit":    "Please finish within %d minutes.",
		"capture_wait":     "Checking, please wait…",
		"capture_notpad":   "Note: this compares faces and checks simply that a live person is before the camera; it cannot catch every use of a photo or a video.",
		"back":             "Back",
		"again":            "Try again",
		"st_CERTIFIED":     "Certified",
		"st_WARNING":       "Expiring soon: please certify",
		"st_PENDING":       "Certification due",
		"st_SUSPENDED":     "Payment suspended until you certify",
		"st_LOSS":          "Eligibility suspended: please contact the pension office",
		"st_TERMINATED":    "Ended",
		"st_CONFLICT":      "Being checked",
		"m_STRONG":         "department records",
		"m_WEAK":           "everyday records",
		"m_FACE":           "face",
		"m_COUNTER":        "at the counter",
		"m_COMMUNITY":      "home visit",
		"m_MIGRATED":       "a record of the previous system",
		"r_accept":         "Certified!",
		"r_recorded":       "The photos matched and were recorded, but your eligibility must be checked by the pension office: bring the ID card to the pension office, or contact the village.",
		"r_review":         "Sent: staff will check the photos soon. See the result under My certification; there is no need to send them again.",
		"r_retry":          "The pictures were not good enough; please try again.",
		"r_reject":         "Not certified. Try again in good light, looking at the screen and blinking; if it keeps failing, village staff will visit to help.",
		"r_visit":          "Not certified. The village will visit to help.",
		"r_refused":        "This attempt has expired; please start again.",
		"r_pending":        "Your photos arrived and are being checked. Look under My certification in a little while; there is no need to send them again.",
		"r_too_many":       "Too many attempts today; try tomorrow or contact the village.",
		"why_no_face":      "No face seen: face the phone.",
		"why_many_faces":   "More than one person in the picture.",
		"why_face_small":   "The face is too small: hold the phone closer.",
		"why_blurred":      "Blurred: hold the phone still.",
		"why_too_dark":     "Too dark: find more light.",
		"why_too_bright":   "Too bright: avoid direct light.",
		"why_bad_image":    "The picture could not be read.",
		"why_frames":       "Send 1 to 5 pictures.",
		"why_too_large":    "The photo file is too large to send. Press Try again and use the Start button; or ask someone to make the photo smaller.",
		"until_is":         "Certified until %s.",
		"msg_link_invalid": "This link has expired or was used. Log in with the ID number.",
		"msg_link_locked":  "Too many wrong digits: this link is locked. Log in with the ID number.",
		"msg_code_expired": "The code has expired; ask for a new one.",
		"msg_too_many":     "Too many tries; please wait and try again.",
		"msg_internal":     "The service is busy; please try again later.",
		"msg_unavailable":  "Face certification is unavailable now; try later or contact the village.",
		"msg_face_status":  "Your case must be checked by the pension office: it cannot be settled by a face on the phone. Bring the ID card to the pension office, or contact the village.",
		"msg_face_review":  "Staff are checking the photos you sent: please wait, there is no need to send them again.",
		"err_wrong_digits": "Those are not the last 4 characters; try again.",
		"err_wrong_code":   "Wrong code; try again.",
		"err_bad_id":       "That is not a valid ID number.",
	},
}

// msg returns the string for key in lang.
func msg(lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	if s, ok := messages[langZH][key]; ok {
		return s
	}
	return key
}

// langOf is the page language: ?lang= (kept in a cookie), else the cookie, else Chinese.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langEN || l == langZH {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEN || c.Value == langZH) {
		return c.Value
	}
	return langZH
}

// resultMessage says an attempt's result in words.
func resultMessage(lang string, a attemptResult) string {
	switch {
	case a.Outcome == "accept" && a.Until != "":
		return msg(lang, "r_accept") + " " + fmt.Sprintf(msg(lang, "until_is"), plainDay(lang, a.Until))
	case a.Outcome == "reject" && a.Reason == "visit":
		return msg(lang, "r_visit")
	case a.Outcome == "refused" && a.Reason == "too_many":
		return msg(lang, "r_too_many")
	case a.Outcome == "closed":
		return msg(lang, "msg_face_"+a.Reason)
	case a.Outcome == "retry" && a.Reason == "too_large":
		return msg(lang, "why_too_large")
	case a.Outcome == "retry":
		if w := msg(lang, "why_"+a.Reason); w != "why_"+a.Reason {
			return msg(lang, "r_retry") + " " + w
		}
	case a.Outcome == "reject" && a.Reason == reasonManyFaces:
		return msg(lang, "r_reject") + " " + msg(lang, "why_many_faces")
	}
	return msg(lang, "r_"+a.Outcome)
}

// pageData is what every page template reads.
type pageData struct {
	Lang      string
	Path      string
	Token     string
	Error     string
	Msg       string
	Next      string
	CSRF      string
	Nonce     string
	Agent     bool
	Minutes   int
	MaxFrames int
	Status    *Status
	Result    *attemptResult
}

var (
	tmplOnce sync.Once
	tmpl     *template.Template
	tmplErr  error
)

func parseTemplates() error {
	tmplOnce.Do(func() {
		tmpl, tmplErr = template.New("").Funcs(template.FuncMap{
			"t": func(lang, key string, args ...any) string {
				if len(args) > 0 {
					return fmt.Sprintf(msg(lang, key), args...)
				}
				return msg(lang, key)
			},
			"day":   func(lang, s string) string { return plainDay(lang, s) },
			"phone": func() string { return HelpPhone },
			"month": func(lang, s string) string { return plainMonth(lang, s) },
		}).ParseFS(templateFiles, "templates/*.html")
	})
	return tmplErr
}

// HelpPhone is the number the pensioner's pages give for questions: 12333, the national
// social-insurance hotline, by default; serve --help-phone sets the agency's own.
var HelpPhone = "12333"

// plainDay writes a day as people say it: "2024年5月3日" / "3 May 2024".
func plainDay(lang, s string) string {
	d, err := sc.ParseDate(s)
	if err != nil {
		return s
	}
	y, m, day := d.Civil()
	if lang == langEN {
		return fmt.Sprintf("%d %s %d", day, monthsEN[m-1], y)
	}
	return fmt.Sprintf("%d年%d月%d日", y, m, day)
}

// monthsEN are the months' short names in English.
var monthsEN = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// plainMonth writes a month as people say it: "2025年12月" / "Dec 2025".
func plainMonth(lang, s string) string {
	m, err := sc.ParseMonth(s)
	if err != nil {
		return s
	}
	y, mo := m.Civil()
	if lang == langEN {
		return fmt.Sprintf("%s %d", monthsEN[mo-1], y)
	}
	return fmt.Sprintf("%d年%d月", y, mo)
}

// render writes a page in the request's language.
func (h *handler) render(w http.ResponseWriter, r *http.Request, code int, name string, d pageData) {
	d.Lang = langOf(r)
	d.Path = r.URL.Path
	if d.Path == "/c/attempt" {
		// A capture's result: its language link opens the status page (a GET of the
		// capture's address is read as a sign-in link, and answered "link expired").
		d.Path = "/c/me"
	}
	if l := r.URL.Query().Get("lang"); l == d.Lang {
		h.setCookie(w, r, langCookie, l, 365*24*60*60*1e9)
	}
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name+".html", d); err != nil {
		h.log.Error("citizen render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFiles.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
