package auth

import (
	"strings"
	"time"

	sc "github.com/silentcert/silentcert"
)

// Role is what a staff account may do and how far it sees; the console checks it on the
// server for every page and API call.
type Role string

// The roles of issue 6.
const (
	RoleAdmin    Role = "admin"    // manages accounts and API keys; sees and acts on the whole city
	RoleOperator Role = "operator" // the city bureau's operator (市级经办): sees and acts on the whole city
	RoleAuditor  Role = "auditor"  // reads everything, changes nothing (审计)
	RoleDistrict Role = "district" // district staff (区县), scoped to a 6-digit code
	RoleTown     Role = "town"     // town or street staff (乡镇/街道), scoped to a 9-digit code
	RoleVillage  Role = "village"  // the village or community assistant (村/社区协理员), scoped to a 12-digit code
)

// Roles lists every role, for the account forms.
var Roles = []Role{RoleAdmin, RoleOperator, RoleAuditor, RoleDistrict, RoleTown, RoleVillage}

// Languages lists the console's languages; zh-CN is the default.
var Languages = []string{"zh-CN", "en"}

// regionLen is the length of the code a scoped role must have: NBS division codes give a
// district 6 digits, a town 9 and a village 12.
var regionLen = map[Role]int{RoleDistrict: 6, RoleTown: 9, RoleVillage: 12}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// checkScope says whether region is a fit scope for role: exactly a district, town or
// village code for the scoped roles; the whole installation ("") or a code prefix at a
// division boundary the console keeps figures for (a city's 4 digits, 6, 9 or 12) for the
// others. A province's 2 digits are not one: an installation for a province is the whole
// of it ("").
func checkScope(role Role, region string) error {
	if !role.Valid() {
		return sc.Errorf(sc.EInvalid, "role %q: want one of admin, operator, auditor, district, town, village", role)
	}
	if !allDigits(region) {
		return sc.Errorf(sc.EInvalid, "region %q: a division code is digits only", region)
	}
	if n, scoped := regionLen[role]; scoped {
		if len(region) != n {
			return sc.Errorf(sc.EInvalid, "region %q: a %s account needs a %d-digit division code", region, role, n)
		}
		return nil
	}
	switch len(region) {
	case 0, 4, 6, 9, 12:
		return nil
	}
	return sc.Errorf(sc.EInvalid, "region %q: a division code prefix has 4, 6, 9 or 12 digits (none: the whole installation)", region)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// User is a staff account as the console sees it; it never holds the password.
type User struct {
	ID       int64
	Name     string
	Role     Role
	Region   string // the 12-digit-code prefix the user is scoped to; "" = the whole city
	Disabled bool
	Lang     string // "zh-CN" or "en"

	Created     time.Time // when the account was made
	LockedUntil time.Time // zero unless password guessing has locked the account
	// MustChange: the password was set by an administrator; the holder must choose their
	// own (ChangeOwnPassword) before the console shows them anything else.
	MustChange bool
}

// Sees reports whether the user may see a person or area whose division code is
// regionCode: the code must lie inside the user's region (start with its prefix) and be a
// code at all (digits, at most 12 of them), so that "3710020010010" or "371002001001x" are
// never taken for a village's people. A code shorter than the user's region (a town as a
// whole, for a village's assistant) is outside it. Only unscoped users see people with no
// code (unassigned addresses). Disabled users see nothing.
func (u *User) Sees(regionCode string) bool {
	if u == nil || u.Disabled || !u.Role.Valid() {
		return false
	}
	if n, scoped := regionLen[u.Role]; scoped && len(u.Region) != n {
		return false // a scoped account without its code sees nothing rather than everything
	}
	if len(regionCode) > 12 || !allDigits(regionCode) {
		return false
	}
	return strings.HasPrefix(regionCode, u.Region)
}

// CanWrite reports whether the user may change anything (record a visit, review a
// conflict): every enabled account but an auditor's.
func (u *User) CanWrite() bool {
	return u != nil && !u.Disabled && u.Role.Valid() && u.Role != RoleAuditor
}

// IsAdmin reports whether the user may manage accounts and API keys.
func (u *User) IsAdmin() bool { return u != nil && !u.Disabled && u.Role == RoleAdmin }
