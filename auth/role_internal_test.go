package auth

import "testing"

// TestCheckScope: an account's region is one the console keeps figures for: the whole
// installation, a city, district, town or village; scoped roles exactly their level's.
func TestCheckScope(t *testing.T) {
	for _, c := range []struct {
		role   Role
		region string
		ok     bool
	}{
		{RoleAdmin, "", true}, {RoleAuditor, "3710", true}, {RoleOperator, "371002", true}, {RoleAuditor, "371002001001", true},
		{RoleAuditor, "37", false}, {RoleOperator, "37100", false}, {RoleAdmin, "37x0", false},
		{RoleDistrict, "371002", true}, {RoleDistrict, "3710", false}, {RoleTown, "371002001", true},
		{RoleVillage, "371002001001", true}, {RoleVillage, "371002001", false}, {Role("root"), "", false},
	} {
		if err := checkScope(c.role, c.region); (err == nil) != c.ok {
			t.Errorf("checkScope(%s, %q) = %v, want ok %v", c.role, c.region, err, c.ok)
		}
	}
}
