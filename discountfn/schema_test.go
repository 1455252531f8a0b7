package discountfn

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/graphql/schemacheck"
)

// resultType is the schema type each run target returns.
var resultType = map[Target]string{
	TargetCartLines:       "CartLinesDiscountsGenerateRunResult",
	TargetDeliveryOptions: "CartDeliveryOptionsDiscountsGenerateRunResult",
}

func loadFunctionSchema(t *testing.T) *schemacheck.Schema {
	t.Helper()
	s, err := schemacheck.LoadFiles(filepath.Join("extension", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutputsMatchSchema validates every golden answer, and the answers to a few hundred random
// shops and carts, against the platform's run-target result types.
func TestOutputsMatchSchema(t *testing.T) {
	schema := loadFunctionSchema(t)
	check := func(name string, target Target, res Result) {
		t.Helper()
		out, err := json.Marshal(res.RunResult())
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.ValidateValue(resultType[target], out); err != nil {
			t.Errorf("%s: output does not match %s: %v\n%s", name, resultType[target], err, out)
		}
	}
	for file, v := range loadGolden(t) {
		set := v.offerSet(t)
		for _, r := range v.Requests {
			if r.Want.Error != "" {
				continue
			}
			target := r.Target
			if target == "" {
				target = TargetCartLines
			}
			res, err := set.Evaluate(Request{Input: r.input(t, set), Target: target, OfferID: r.OfferID,
				Facts: v.Facts, Codes: v.Codes, Now: v.Now})
			if err != nil {
				t.Fatalf("%s/%s: %v", file, r.Name, err)
			}
			check(file+"/"+r.Name, target, res)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		data := make([]byte, 120)
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		offers, cart := fuzzShop(data)
		set, err := NewOfferSet(Settings{Currency: "USD"}, offers, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []Target{TargetCartLines, TargetDeliveryOptions} {
			res, err := set.Evaluate(Request{Input: expandCart(cart, set), Target: target, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("random shop %d", i), target, res)
		}
	}
}

// TestEngineImportsOnlyStandardLibrary keeps the engine pure: no I/O frameworks, no logging.
func TestEngineImportsOnlyStandardLibrary(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	forbidden := []string{"net/http", "log", "log/slog", "os", "database/sql"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s: the engine may import the standard library only", f, path)
			}
			for _, bad := range forbidden {
				if path == bad {
					t.Errorf("%s imports %s: the engine does no I/O and no logging", f, path)
				}
			}
		}
	}
}
