package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/auth"
)

// citizenActions reads the citizen package's source for the audit actions it writes:
// auditRow's action argument, an AuditRow's Action field and assignments to .Action, each
// a literal or a variable whose literals are found where it is set (action := "x") or,
// for a function's parameter, in the calls of that function (early(…, "x", …)).
func citizenActions(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../citizen/*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	lit := func(e ast.Expr) (string, bool) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			s, err := strconv.Unquote(b.Value)
			return s, err == nil
		}
		return "", false
	}
	written := map[string]bool{}
	vars := map[string]bool{} // variables passed as the action
	params := map[string]int{}
	setTo := map[string][]string{}          // variable → the literals it is set to
	calledWith := map[string][][]ast.Expr{} // function name → the arguments of its calls
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch f := n.Fun.(type) {
				case *ast.Ident:
					name = f.Name
				case *ast.SelectorExpr:
					name = f.Sel.Name
				}
				calledWith[name] = append(calledWith[name], n.Args)
				if name == "auditRow" && len(n.Args) == 7 {
					if s, ok := lit(n.Args[4]); ok {
						written[s] = true
					} else if id, ok := n.Args[4].(*ast.Ident); ok {
						vars[id.Name] = true
					} else {
						t.Errorf("%s: an action this test cannot read", fset.Position(n.Pos()))
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Action" {
					if s, ok := lit(n.Value); ok {
						written[s] = true
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if i >= len(n.Rhs) {
						break
					}
					s, ok := lit(n.Rhs[i])
					switch l := l.(type) {
					case *ast.SelectorExpr:
						if l.Sel.Name == "Action" && ok {
							written[s] = true
						}
					case *ast.Ident:
						if ok {
							setTo[l.Name] = append(setTo[l.Name], s)
						}
						// name := func(…, action string, …): calls of name give the action.
						if fl, isFunc := n.Rhs[i].(*ast.FuncLit); isFunc {
							j := 0
							for _, f := range fl.Type.Params.List {
								for _, pn := range f.Names {
									if pn.Name == "action" {
										params[l.Name] = j
									}
									j++
								}
							}
						}
					}
				}
			}
			return true
		})
	}
	for v := range vars {
		n := len(setTo[v])
		for _, s := range setTo[v] {
			written[s] = true
		}
		for fn, i := range params {
			for _, args := range calledWith[fn] {
				if i < len(args) {
					if s, ok := lit(args[i]); ok {
						written[s] = true
						n++
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("the citizen package passes %s as an action, and this test finds no value for it", v)
		}
	}
	return written
}

// TestCitizenActionsNamed: every action the pensioner's pages write in the audit trail
// (a login code sent, a face attempt sent for review, …) has a name in every catalogue,
// as do their rule and actors: the person page showed "本人登录 · code_sent",
// "依据规则：citizen", "操作人：citizen", to the village assistant too.
func TestCitizenActionsNamed(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	written := citizenActions(t)
	if len(written) < 25 {
		t.Fatalf("found only %d actions written by the citizen package: %v", len(written), written)
	}
	for _, want := range []string{"code_sent", "login", "review", "replay", "wrong_code", "nonce_refused", "attempt_refused", "link_locked"} {
		if !written[want] {
			t.Errorf("the walk misses %q", want)
		}
	}
	for lang, m := range cats {
		for a := range written {
			if _, ok := m["audit.act."+a]; !ok {
				t.Errorf("%s: action %q has no name (audit.act.%s)", lang, a, a)
			}
		}
		for _, k := range []string{"rule.citizen", "actor.citizen", "actor.citizen:agent", "audit.village.replay"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %s", lang, k)
			}
		}
	}
	for _, role := range []auth.Role{auth.RoleVillage, auth.RoleOperator} {
		p := &Page{User: &auth.User{Role: role}, msgs: cats["zh-CN"]}
		if got := p.RuleName("citizen"); got == "citizen" {
			t.Errorf("%s: the citizen rule shown as its code", role)
		}
		for _, a := range []string{"citizen", "citizen:agent"} {
			if got := p.ActorName(a); got == a {
				t.Errorf("%s: actor %q shown as its code", role, a)
			}
		}
	}
}

// TestReplayHiddenFromVillage: a face attempt taken for a replayed photo or video (a
// fraud risk's reason) is named to the village assistant only as waiting for review, as
// the review row beside it says; the bureau's staff read what it is.
func TestReplayHiddenFromVillage(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	village := &Page{User: &auth.User{Role: auth.RoleVillage}, msgs: cats["zh-CN"]}
	operator := &Page{User: &auth.User{Role: auth.RoleOperator}, msgs: cats["zh-CN"]}
	if got := village.AuditAction("citizen_face", "replay"); got != "待人工审核" {
		t.Errorf("the village assistant reads the replay row as %q, want 待人工审核", got)
	}
	if got, want := operator.AuditAction("citizen_face", "replay"), cats["zh-CN"]["audit.act.replay"]; got != want || !strings.Contains(got, "回放") {
		t.Errorf("the operator reads the replay row as %q, want %q", got, want)
	}
}
