package silentcert

import (
	"fmt"
	"sort"
)

// Class is the kind of evidence a record type gives (spec §4).
type Class uint8

// The evidence classes of spec §4.
const (
	ClassNone    Class = iota
	ClassDeath         // the person died on event_date (死亡)
	ClassLoss          // eligibility suspended from event_date (e.g. 服刑)
	ClassRestore       // a LOSS ends on event_date (刑满释放)
	ClassStrong        // present in person with identity checked: certifies alone (强认证数据)
	ClassWeak          // a trace of activity; only weighed together (弱认证数据)
	ClassInfo          // contact, address or a visit's outcome; certifies nothing
	ClassResolve       // a reviewer's decision on a CONFLICT
)

var classNames = [...]string{"", "DEATH", "LOSS", "RESTORE", "STRONG", "WEAK", "INFO", "RESOLVE"}

// String returns the class's code as the spec writes it.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// ParseClass returns the class named s ("STRONG", …).
func ParseClass(s string) (Class, bool) {
	for i, n := range classNames {
		if i > 0 && n == s {
			return Class(i), true
		}
	}
	return ClassNone, false
}

// Method is how a certification was obtained (spec §4, §7).
type Method uint8

// Certification methods.
const (
	MethodNone Method = iota
	MethodStrong
	MethodWeak
	MethodFace
	MethodCounter
	MethodCommunity
	MethodMigrated
)

var methodNames = [...]string{"", "STRONG", "WEAK", "FACE", "COUNTER", "COMMUNITY", "MIGRATED"}

// String returns the method's code ("" for MethodNone).
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", m)
}

// ParseMethod returns the method named s.
func ParseMethod(s string) (Method, bool) {
	for i, n := range methodNames {
		if i > 0 && n == s {
			return Method(i), true
		}
	}
	return MethodNone, false
}

// TypeID indexes a record type within one Catalogue. It is only meaningful with that
// catalogue; files and storage carry the type's code.
type TypeID uint16

// NoType is the TypeID of an unknown type.
const NoType TypeID = 0xFFFF

// RecordType is one entry of the evidence catalogue (认证依据目录).
type RecordType struct {
	Code   string `json:"code"`   // e.g. "MED.INPATIENT"
	Source string `json:"source"` // the only department allowed to send it, e.g. "MED"
	Class  Class  `json:"-"`
	// CriticalWeak makes a record of this type WEAK instead of its class when its detail
	// says critical=1 (a critical-illness admission proves presence less than a routine one
	// and often precedes a death).
	CriticalWeak bool `json:"critical_weak,omitempty"`
	// Spoofable marks a weak type that a relative holding a dead recipient's card or phone
	// can produce (spec §4's threat model). Spoofable traces never certify on their own.
	Spoofable bool `json:"spoofable,omitempty"`
	// Weight scales the type's contribution in the weak-evidence rule (1 by default).
	Weight float64 `json:"weight,omitempty"`
	// Method is the certification method a STRONG record of this type gives.
	Method Method `json:"-"`
	// Moves marks an INFO type whose region_code is the person's new registered place
	// (户籍迁移, 已迁出): applying it re-routes the person to that village's worklist.
	Moves bool `json:"moves,omitempty"`
	// Off switches the type off: its records are read and counted but change nothing.
	Off  bool   `json:"off,omitempty"`
	Name string `json:"name,omitempty"` // 中文 label
}

// Catalogue is the evidence catalogue: every record type with its source, class and flags.
// Build one with NewCatalogue; it is read-only afterwards and safe for concurrent use.
type Catalogue struct {
	types []RecordType
	index map[string]TypeID
}

// NewCatalogue builds a catalogue from types, which must have distinct codes, a source and
// a class. Types keep their order; their TypeIDs are their positions.
func NewCatalogue(types []RecordType) (*Catalogue, error) {
	c := &Catalogue{types: append([]RecordType(nil), types...), index: make(map[string]TypeID, len(types))}
	if len(types) >= int(NoType) {
		return nil, Errorf(EInvalid, "catalogue: too many types (%d)", len(types))
	}
	for i := range c.types {
		t := &c.types[i]
		if t.Code == "" || t.Source == "" {
			return nil, Errorf(EInvalid, "catalogue: type %d has no code or source", i+1)
		}
		if t.Class == ClassNone {
			return nil, Errorf(EInvalid, "catalogue: type %s has no class", t.Code)
		}
		if _, dup := c.index[t.Code]; dup {
			return nil, Errorf(EInvalid, "catalogue: type %s is listed twice", t.Code)
		}
		if t.Weight == 0 {
			t.Weight = 1
		}
		if t.Class == ClassStrong && t.Method == MethodNone {
			t.Method = MethodStrong
		}
		c.index[t.Code] = TypeID(i)
	}
	return c, nil
}

// Lookup returns the TypeID of the type coded code.
func (c *Catalogue) Lookup(code string) (TypeID, bool) {
	id, ok := c.index[code]
	return id, ok
}

// LookupBytes is Lookup for a byte slice; it does not allocate.
func (c *Catalogue) LookupBytes(code []byte) (TypeID, bool) {
	id, ok := c.index[string(code)]
	return id, ok
}

// Type returns the entry of id.
func (c *Catalogue) Type(id TypeID) *RecordType { return &c.types[id] }

// Len returns the number of types.
func (c *Catalogue) Len() int { return len(c.types) }

// Types returns a copy of every entry, in catalogue order.
func (c *Catalogue) Types() []RecordType { return append([]RecordType(nil), c.types...) }

// Sources returns the distinct source codes, sorted.
func (c *Catalogue) Sources() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range c.types {
		if !seen[t.Source] {
			seen[t.Source] = true
			out = append(out, t.Source)
		}
	}
	sort.Strings(out)
	return out
}

// ClassOf returns the effective class of a record of type id: WEAK for a CriticalWeak type
// whose record is critical, the type's class otherwise.
func (c *Catalogue) ClassOf(id TypeID, critical bool) Class {
	t := &c.types[id]
	if critical && t.CriticalWeak {
		return ClassWeak
	}
	return t.Class
}

// DefaultRecordTypes returns the default catalogue of spec §4, in the spec's order.
func DefaultRecordTypes() []RecordType {
	s := func(code, src string, class Class, name string) RecordType {
		return RecordType{Code: code, Source: src, Class: class, Name: name}
	}
	w := func(code, src string, spoofable bool, name string) RecordType {
		return RecordType{Code: code, Source: src, Class: ClassWeak, Spoofable: spoofable, Name: name}
	}
	types := []RecordType{
		s("PSB.DEATH_DEREG", "PSB", ClassDeath, "公安 死亡注销户口"),
		s("CIV.CREMATION", "CIV", ClassDeath, "民政 火化记录"),
		s("HEA.DEATH_CERT", "HEA", ClassDeath, "卫健 死亡医学证明"),
		s("MOHRSS.DEATH", "MOHRSS", ClassDeath, "部级下发死亡数据"),
		s("CMT.DEATH_REPORT", "CMT", ClassDeath, "村(社区)死亡报告"),
		s("JUS.PRISON_IN", "JUS", ClassLoss, "司法 收监执行"),
		s("JUS.PRISON_OUT", "JUS", ClassRestore, "司法 刑满释放"),
		{Code: "MED.INPATIENT", Source: "MED", Class: ClassStrong, CriticalWeak: true, Name: "医保 住院结算"},
		s("MED.LTC_SERVICE", "MED", ClassStrong, "长期护理保险服务"),
		s("HEA.VACCINATION", "HEA", ClassStrong, "疫苗接种"),
		s("HEA.FAMILY_DOCTOR", "HEA", ClassStrong, "家庭医生签约随访"),
		s("HEA.CHECKUP", "HEA", ClassStrong, "老年人健康体检"),
		s("TRN.SENIOR_CARD_CHECK", "TRN", ClassStrong, "老年公交卡年检"),
		s("TRN.RAIL", "TRN", ClassStrong, "铁路实名出行"),
		s("TRN.AIR", "TRN", ClassStrong, "民航实名出行"),
		s("NIA.BORDER", "NIA", ClassStrong, "出入境记录"),
		s("JUS.TRIAL", "JUS", ClassStrong, "司法审判出庭"),
		s("BANK.COUNTER", "BANK", ClassStrong, "银行临柜实名业务"),
		s("CIV.NURSING_HOME", "CIV", ClassStrong, "养老机构入住核验"),
		{Code: "HRSS.FACE", Source: "HRSS", Class: ClassStrong, Method: MethodFace, Name: "人脸识别自助认证"},
		{Code: "HRSS.COUNTER", Source: "HRSS", Class: ClassStrong, Method: MethodCounter, Name: "经办窗口现场认证"},
		{Code: "CMT.VISIT", Source: "CMT", Class: ClassStrong, Method: MethodCommunity, Name: "村(社区)上门核实"},
		w("MED.OUTPATIENT", "MED", false, "门诊就医"),
		w("MED.PHARMACY", "MED", true, "药店购药"),
		w("MED.CHRONIC", "MED", false, "慢病门诊/审批"),
		w("MED.REFERRAL", "MED", false, "转诊审批"),
		w("MED.OFFSITE", "MED", false, "异地就医备案"),
		w("HRSS.CARD_SPEND", "HRSS", true, "社保卡消费"),
		w("TRN.TRANSIT", "TRN", false, "公交地铁刷卡"),
		w("TEL.ACTIVITY", "TEL", true, "移动通信活跃"),
		w("BANK.TXN", "BANK", true, "金融交易(ATM/转账)"),
		w("UTIL.PAYMENT", "UTIL", true, "水电燃气缴费"),
		{Code: "PSB.HUKOU_MOVE", Source: "PSB", Class: ClassInfo, Moves: true, Name: "户籍迁移"},
		{Code: "CMT.MOVED", Source: "CMT", Class: ClassInfo, Moves: true, Name: "村(社区)核实: 已迁出"},
		s("CMT.NOT_FOUND", "CMT", ClassInfo, "村(社区)核实: 未找到本人"),
		s("CMT.REFUSED", "CMT", ClassInfo, "村(社区)核实: 拒绝配合"),
		s("HRSS.REVIEW", "HRSS", ClassResolve, "经办复核冲突"),
	}
	return types
}

// DefaultCatalogue returns the catalogue of spec §4.
func DefaultCatalogue() *Catalogue {
	c, err := NewCatalogue(DefaultRecordTypes())
	if err != nil {
		panic(err)
	}
	return c
}

// Benefit is one entitlement code (待遇类型) of spec §5.
type Benefit struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
}

// DefaultBenefits returns the entitlement codes of spec §5.
func DefaultBenefits() []Benefit {
	return []Benefit{
		{"EMP_PENSION", "企业职工基本养老金"},
		{"GOV_PENSION", "机关事业单位养老金"},
		{"RES_PENSION", "城乡居民养老金"},
		{"INJURY", "工伤伤残津贴(1-4级)"},
		{"SURVIVOR", "遗属待遇"},
		{"ELDERLY_ALLOWANCE", "高龄津贴"},
		{"VILLAGE_DOCTOR", "退出村医生活补助"},
		{"DISABILITY_ALLOWANCE", "残疾人两项补贴"},
		{"MINIMUM_LIVING", "低保"},
	}
}
