package arch

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/regularsapp/regulars"

// rules: a package whose import path starts with a key may import nothing that starts with
// one of the forbidden prefixes, and a framework may be imported only by its owner.
var owners = map[string]string{
	"gorm.io/":                    module + "/store",
	"github.com/gofiber/":         module + "/app",
	"github.com/Khan/genqlient":   module + "/graphql",
	"github.com/golang-jwt/":      module + "/app",
	"github.com/jackc/pgx":        module + "/store", // storetest's schema helper is a test-support package of store
	"github.com/glebarez/sqlite":  module + "/store",
	"github.com/vektah/gqlparser": module + "/graphql",
}

// coOwners may also import a framework: the platform stand-in mints ID tokens (golang-jwt)
// and validates and executes Admin GraphQL requests (gqlparser).
var coOwners = map[string]string{
	"github.com/golang-jwt/":      module + "/standin",
	"github.com/vektah/gqlparser": module + "/standin",
}

// TestImportDirections checks, over every package's non-test imports, that each framework is
// imported only by the package that owns it, and that the engine imports only the standard
// library.
func TestImportDirections(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			for prefix, owner := range owners {
				if strings.HasPrefix(imp, prefix) && !strings.HasPrefix(pkg, owner) &&
					(coOwners[prefix] == "" || !strings.HasPrefix(pkg, coOwners[prefix])) {
					t.Errorf("%s imports %s: only %s may", pkg, imp, owner)
				}
			}
			if strings.HasPrefix(pkg, module+"/discountfn") {
				if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
					t.Errorf("%s imports %s: the engine imports only the standard library", pkg, imp)
				}
			}
			// Only the composition root and the commands reach into everything.
			if strings.HasPrefix(imp, module+"/app") && !strings.HasPrefix(pkg, module+"/cmd/") {
				t.Errorf("%s imports %s: only commands import app", pkg, imp)
			}
		}
	}
}
