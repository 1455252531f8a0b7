package codegen

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name     string
		p        Pattern
		n        int
		alphabet string
		length   int // total
	}{
		{"default", Pattern{}, 500, unambiguousChars, DefaultLength},
		{"prefix and suffix", Pattern{Length: 6, Prefix: "vip", Suffix: "X9"}, 300, unambiguousChars, 11},
		{"alphanumeric", Pattern{Length: 8, Charset: "alphanumeric"}, 100, alphanumericChars, 8},
		{"letters", Pattern{Length: 5, Charset: "Letters"}, 100, letterChars, 5},
		{"digits", Pattern{Length: 6, Charset: "digits"}, 1000, digitChars, 6},
		{"custom", Pattern{Length: 12, Charset: "abAB"}, 100, "AB", 12},
		{"longest", Pattern{Length: 26, Prefix: "AB", Suffix: "CD"}, 10, unambiguousChars, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			codes, err := Generate(tc.p, tc.n, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != tc.n {
				t.Fatalf("%d codes, want %d", len(codes), tc.n)
			}
			seen := map[string]bool{}
			prefix, suffix := strings.ToUpper(tc.p.Prefix), strings.ToUpper(tc.p.Suffix)
			for _, c := range codes {
				if seen[c] {
					t.Fatalf("code %s repeated", c)
				}
				seen[c] = true
				if len(c) != tc.length || !strings.HasPrefix(c, prefix) || !strings.HasSuffix(c, suffix) {
					t.Fatalf("code %q does not match the pattern", c)
				}
				for _, r := range c[len(prefix) : len(c)-len(suffix)] {
					if !strings.ContainsRune(tc.alphabet, r) {
						t.Fatalf("code %q has %q, not in %q", c, r, tc.alphabet)
					}
				}
				if validCode(c) != "" {
					t.Fatalf("code %q breaks the code rule", c)
				}
			}
		})
	}
}

func TestGenerateDefaultHasNoLookAlikes(t *testing.T) {
	if strings.ContainsAny(unambiguousChars, "0O1IL") || len(unambiguousChars) != 31 {
		t.Fatalf("default charset %q", unambiguousChars)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name  string
		p     Pattern
		n     int
		field string
	}{
		{"no codes", Pattern{}, 0, "count"},
		{"too short", Pattern{Length: 3}, 1, "length"},
		{"too long", Pattern{Length: 31}, 1, "length"},
		{"too long with prefix", Pattern{Length: 10, Prefix: strings.Repeat("A", 21)}, 1, "length"},
		{"no room", Pattern{Prefix: strings.Repeat("A", 15), Suffix: strings.Repeat("B", 12)}, 1, "prefix"},
		{"bad prefix", Pattern{Prefix: "A-"}, 1, "prefix"},
		{"bad suffix", Pattern{Suffix: "é"}, 1, "suffix"},
		{"bad charset", Pattern{Charset: "AB-"}, 1, "charset"},
		{"one character", Pattern{Charset: "aA"}, 1, "charset"},
		// 10^4 = 10,000 codes: enough for 5,000, not for 5,001.
		{"space too small", Pattern{Length: 4, Charset: "digits"}, 5001, "length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(tc.p, tc.n, nil)
			var pe *PatternError
			if !errors.As(err, &pe) || pe.Field != tc.field {
				t.Fatalf("err = %v, want a PatternError on %s", err, tc.field)
			}
		})
	}
	if codes, err := Generate(Pattern{Length: 4, Charset: "digits"}, 5000, nil); err != nil || len(codes) != 5000 {
		t.Fatalf("5,000 of 10,000: %d codes, %v", len(codes), err)
	}
}

func TestGenerateBadRandomSource(t *testing.T) {
	// All zeros: every code is the same, so the generator must give up, not loop.
	_, err := Generate(Pattern{}, 3, bytes.NewReader(make([]byte, 1<<20)))
	if !errors.Is(err, ErrRandom) {
		t.Fatalf("zero source: %v", err)
	}
	// Too short.
	_, err = Generate(Pattern{}, 3, bytes.NewReader([]byte{1, 2, 3}))
	if !errors.Is(err, ErrRandom) {
		t.Fatalf("short source: %v", err)
	}
	// Only bytes above the rejection limit (31 characters: 248 and up are refused).
	_, err = Generate(Pattern{}, 1, bytes.NewReader(bytes.Repeat([]byte{255}, 1<<17+10)))
	if !errors.Is(err, ErrRandom) {
		t.Fatalf("unusable source: %v", err)
	}
}

// TestGenerateUniform: with rejection sampling each character is equally likely (a coarse
// chi-squared check on 310,000 characters; the threshold is far beyond chance).
func TestGenerateUniform(t *testing.T) {
	codes, err := Generate(Pattern{Length: 10}, 31_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[rune]int{}
	total := 0
	for _, c := range codes {
		for _, r := range c {
			counts[r]++
			total++
		}
	}
	want := float64(total) / float64(len(unambiguousChars))
	chi := 0.0
	for _, r := range unambiguousChars {
		d := float64(counts[r]) - want
		chi += d * d / want
	}
	// 30 degrees of freedom: p < 1e-6 beyond about 80. Modulo bias (256 % 31 = 8) would add
	// about 1,700.
	if chi > 100 || math.IsNaN(chi) {
		t.Fatalf("chi-squared %.1f: not uniform (%v)", chi, counts)
	}
}

func TestParseCSV(t *testing.T) {
	in := strings.Join([]string{
		"\ufeffcode,customer_id,single_use",
		"abc123,,true",
		"",
		" VIP7 , gid://shopify/Customer/42 ,1",
		"bad-code,,",
		"ABC123,,0",
		"X1,gid://shopify/Product/1,yes",
		strings.Repeat("A", 31) + ",,",
		`"Q9",,FALSE`,
		"Z1,,,extra",
		`"unterminated,,`,
		"LAST\r",
	}, "\n")
	rows, report := ParseCSV(strings.NewReader(in))
	wantRows := []Row{
		{Line: 2, Code: "ABC123", SingleUse: true},
		{Line: 4, Code: "VIP7", CustomerID: "gid://shopify/Customer/42", SingleUse: true},
		{Line: 9, Code: "Q9"},
		{Line: 12, Code: "LAST"},
	}
	if !slices.Equal(rows, wantRows) {
		t.Errorf("rows = %+v\nwant %+v", rows, wantRows)
	}
	wantProblems := []RowProblem{
		{5, "code", "must contain only letters and digits"},
		{6, "code", "ABC123 is already on line 2"},
		{7, "customer_id", "must be empty or a gid://shopify/Customer/… id"},
		{7, "single_use", "must be true, false, 1, 0 or empty"},
		{8, "code", "must be at most 30 characters"},
		{10, "line", "has 4 fields; expected at most 3"},
	}
	if len(report) != len(wantProblems)+1 || !slices.Equal(report[:len(wantProblems)], wantProblems) ||
		report[len(report)-1].Line != 11 || report[len(report)-1].Field != "line" {
		t.Errorf("report = %+v\nwant %+v and line 11", report, wantProblems)
	}
}

func TestParseCSVHeaders(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		rows     []Row
		problems []RowProblem
	}{
		{"no header", "A1\nB2,gid://shopify/Customer/9\nC3,,true\n", []Row{{1, "A1", "", false}, {2, "B2", "gid://shopify/Customer/9", false}, {3, "C3", "", true}}, nil},
		{"reordered", "single_use,code\n1,A1\n", []Row{{2, "A1", "", true}}, nil},
		{"code only", "CODE\nA1\n", []Row{{2, "A1", "", false}}, nil},
		{"no code column", "customer_id\ngid://shopify/Customer/1\n", nil, []RowProblem{
			{1, "line", "the header has no code column"}, {2, "code", "is missing: the header has no code column"}}},
		{"unknown column", "code,note\nA1,hello\n", []Row{{2, "A1", "", false}}, []RowProblem{
			{1, "line", `unknown column "note": the columns are code, customer_id and single_use`}}},
		{"empty", "", nil, nil},
		{"blank lines", "\n\r\n  \n", nil, nil},
		{"customer id zero", "A1,gid://shopify/Customer/0\n", nil, []RowProblem{{1, "customer_id", "must be empty or a gid://shopify/Customer/… id"}}},
		{"empty code", ",gid://shopify/Customer/1\n", nil, []RowProblem{{1, "code", "must not be empty"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, report := ParseCSV(strings.NewReader(tc.in))
			if !slices.Equal(rows, tc.rows) || !slices.Equal(report, tc.problems) {
				t.Errorf("rows %+v report %+v\nwant %+v %+v", rows, report, tc.rows, tc.problems)
			}
		})
	}
}

func TestCSVRoundTrip(t *testing.T) {
	codes, err := Generate(Pattern{Length: 8}, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []Row
	for i, c := range codes {
		r := Row{Code: c, SingleUse: i%2 == 0}
		if i%3 == 0 {
			r.CustomerID = "gid://shopify/Customer/" + string(rune('1'+i%9))
		}
		want = append(want, r)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, want); err != nil {
		t.Fatal(err)
	}
	rows, report := ParseCSV(&buf)
	if len(report) > 0 {
		t.Fatalf("report: %+v", report)
	}
	for i := range rows {
		rows[i].Line = 0
	}
	if !slices.Equal(rows, want) {
		t.Fatal("round trip changed the rows")
	}
	// An empty list is just the header.
	buf.Reset()
	if err := WriteCSV(&buf, nil); err != nil || buf.String() != "code,customer_id,single_use\n" {
		t.Fatalf("empty list: %q %v", buf.String(), err)
	}
}

// FuzzParseCSV: ParseCSV never panics, and every non-blank line after the header is in
// exactly one of rows and report, with rows in the code rule and unique.
func FuzzParseCSV(f *testing.F) {
	f.Add("code,customer_id,single_use\nA1,,true\nA1,,\n")
	f.Add("A1\n\"B\"\"2\",x\n\"open\n")
	f.Add("\ufeffsingle_use,code\n1,ZZ\r\n,\n")
	f.Add("code,code\nA\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, report := ParseCSV(strings.NewReader(in))
		lines := strings.Split(in, "\n")
		dataLines := map[int]bool{}
		headerSeen := false
		for i, l := range lines {
			if i == len(lines)-1 && l == "" {
				break
			}
			l = strings.TrimRight(l, "\r")
			if i == 0 {
				l = strings.TrimPrefix(l, "\ufeff")
			}
			if strings.TrimSpace(l) == "" {
				continue
			}
			if !headerSeen {
				headerSeen = true
				if fields, problem := splitLine(l); problem == "" &&
					(hasColumn(fields, ColumnCode) || hasColumn(fields, ColumnCustomerID) || hasColumn(fields, ColumnSingleUse)) {
					continue // the header
				}
			}
			dataLines[i+1] = true
		}
		inRows := map[int]bool{}
		codes := map[string]bool{}
		for _, r := range rows {
			if !dataLines[r.Line] || inRows[r.Line] {
				t.Fatalf("row on line %d: not a data line, or twice", r.Line)
			}
			inRows[r.Line] = true
			if validCode(r.Code) != "" || codes[r.Code] || r.Code != strings.ToUpper(r.Code) {
				t.Fatalf("row %+v: invalid or repeated code", r)
			}
			codes[r.Code] = true
			if r.CustomerID != "" && !ValidCustomerID(r.CustomerID) {
				t.Fatalf("row %+v: invalid customer", r)
			}
		}
		inReport := map[int]bool{}
		for _, p := range report {
			if inRows[p.Line] {
				t.Fatalf("line %d is both a row and a problem", p.Line)
			}
			if p.Line < 1 || p.Line > len(lines) || p.Field == "" || p.Message == "" {
				t.Fatalf("problem %+v", p)
			}
			inReport[p.Line] = true
		}
		for l := range dataLines {
			if !inRows[l] && !inReport[l] {
				t.Fatalf("line %d is neither a row nor a problem", l)
			}
		}
	})
}
