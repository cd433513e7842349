package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestRefusalsWorded: every refusal the console and the accounts' package make with
// sc.Errorf (all but internal faults) has its words in every catalogue, so that an
// administrator reading Chinese is not answered in English; and the words take the
// refusal's arguments.
func TestRefusalsWorded(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range []string{".", "../auth"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(node ast.Node) bool {
				call, ok := node.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Errorf" || !isIdent(sel.X, "sc") || isSel(call.Args[0], "sc", "EInternal") {
					return true
				}
				lit, ok := call.Args[1].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s: a refusal whose format is not a literal cannot be worded", f)
					return true
				}
				format, _ := strconv.Unquote(lit.Value)
				n++
				for lang, m := range cats {
					if _, ok := m[format]; !ok {
						t.Errorf("%s: messages/%s.json lacks %q", f, lang, format)
					}
				}
				return true
			})
		}
	}
	if n < 50 {
		t.Fatalf("found %d refusals: the search is broken", n)
	}
	got, ok := saidIn(sc.Errorf(sc.EInvalid, "the password needs at least %d characters", 10), cats["zh-CN"])
	if !ok || got != "密码至少需要 10 个字符" {
		t.Fatalf("worded %q, %v", got, ok)
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(s.X, pkg) && s.Sel.Name == name
}
