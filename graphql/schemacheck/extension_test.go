package schemacheck

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The discount function extension: its input queries must be ones the platform accepts, and
// the results its targets produce (the JS tests' fixtures) must be valid result values.
const extensionDir = "../../discountfn/extension"

// tomlTable is one table of the extension TOML: its header and its string and scalar keys.
type tomlTable struct {
	header string // "" for the top level, "[[extensions.targeting]]", "[extensions.build]", ...
	keys   map[string]string
}

var tomlKeyRe = regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^#\s]+))\s*(?:#.*)?$`)

// readTOMLTables reads the flat subset of TOML the extension file uses: table headers and
// key = "string" | bare value lines. Anything else is a test failure, so the file stays
// readable by this reader.
func readTOMLTables(t *testing.T, path string) []tomlTable {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := []tomlTable{{keys: map[string]string{}}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			tables = append(tables, tomlTable{header: line, keys: map[string]string{}})
		default:
			m := tomlKeyRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s:%d: line not understood: %s", path, n, line)
			}
			v := m[3]
			if v == "" {
				v = m[2]
			}
			tables[len(tables)-1].keys[m[1]] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// camelExport turns an export name of the TOML into the JS function name the platform calls:
// cart-lines-discounts-generate-run -> cartLinesDiscountsGenerateRun.
func camelExport(export string) string {
	parts := strings.Split(export, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func TestExtensionInputQueries(t *testing.T) {
	s, err := LoadFiles(filepath.Join(extensionDir, "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	tables := readTOMLTables(t, filepath.Join(extensionDir, "shopify.extension.toml"))

	var jsSource strings.Builder
	jsFiles, _ := filepath.Glob(filepath.Join(extensionDir, "src", "*.js"))
	for _, p := range jsFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		jsSource.Write(b)
	}

	var namespace, key string
	targeted := map[string]string{} // input query path -> target
	for _, tb := range tables {
		switch tb.header {
		case "":
			if got := tb.keys["api_version"]; got != "2025-04" {
				t.Errorf("api_version = %q, want 2025-04 (the version of schema.graphql)", got)
			}
		case "[extensions.input.variables]":
			namespace, key = tb.keys["namespace"], tb.keys["key"]
		case "[[extensions.targeting]]":
			target, query, export := tb.keys["target"], tb.keys["input_query"], tb.keys["export"]
			if target == "" || query == "" || export == "" {
				t.Errorf("targeting entry %v lacks target, input_query or export", tb.keys)
				continue
			}
			targeted[filepath.Clean(query)] = target
			if !strings.Contains(jsSource.String(), "export function "+camelExport(export)+"(") {
				t.Errorf("target %s: no JS function %s for export %q", target, camelExport(export), export)
			}
		}
	}
	if len(targeted) != 4 {
		t.Errorf("%d targets, want the four fetch and run targets", len(targeted))
	}

	queries, err := filepath.Glob(filepath.Join(extensionDir, "src", "*.graphql"))
	if err != nil || len(queries) == 0 {
		t.Fatalf("no input queries under %s/src (%v)", extensionDir, err)
	}
	for _, p := range queries {
		rel, _ := filepath.Rel(extensionDir, p)
		t.Run(rel, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			query := string(b)
			if err := s.ValidateQuery(query); err != nil {
				t.Fatalf("%s is not valid against schema.graphql:\n%v", rel, err)
			}
			target, ok := targeted[rel]
			if !ok {
				t.Fatalf("%s is not the input_query of any target", rel)
			}
			if err := s.ValidateQueryForTarget(query, target); err != nil {
				t.Errorf("%s for target %s:\n%v", rel, target, err)
			}
			if strings.HasSuffix(target, ".fetch") {
				want := `metafield(namespace: "` + namespace + `", key: "` + key + `")`
				if namespace == "" || !strings.Contains(query, want) {
					t.Errorf("%s does not select the configuration metafield %s", rel, want)
				}
			}
		})
	}
	for q := range targeted {
		if !slices.Contains(queries, filepath.Join(extensionDir, q)) {
			t.Errorf("input_query %s does not exist", q)
		}
	}
}

// TestExtensionResultFixtures checks the JS targets' expected outputs (the node tests assert
// the targets produce exactly these) against the schema's result types.
func TestExtensionResultFixtures(t *testing.T) {
	s, err := LoadFiles(filepath.Join(extensionDir, "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{
		"cart-lines-fetch-result.json":       "CartLinesDiscountsGenerateFetchResult",
		"cart-lines-run-result.json":         "CartLinesDiscountsGenerateRunResult",
		"delivery-options-fetch-result.json": "CartDeliveryOptionsDiscountsGenerateFetchResult",
		"delivery-options-run-result.json":   "CartDeliveryOptionsDiscountsGenerateRunResult",
	}
	fixtures, _ := filepath.Glob(filepath.Join(extensionDir, "tests", "fixtures", "*-result.json"))
	if len(fixtures) == 0 {
		t.Fatal("no result fixtures")
	}
	for _, p := range fixtures {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			typeName, ok := types[name]
			if !ok {
				t.Fatalf("no result type known for fixture %s", name)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ValidateValue(typeName, b); err != nil {
				t.Errorf("%s is not a valid %s:\n%v", name, typeName, err)
			}
		})
	}
}
