package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// makeCodes returns n distinct codes: prefix followed by a number.
func makeCodes(prefix string, n int) []CodeRow {
	codes := make([]CodeRow, n)
	for i := range codes {
		codes[i] = CodeRow{Code: fmt.Sprintf("%s%07d", prefix, i), SingleUse: true}
	}
	return codes
}

func TestAddCodesAllOrNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		codes    []CodeRow
		wantErr  error
		wantCode string // the error must name it
	}{
		{
			name:     "repeated in the call, another case",
			codes:    append(makeCodes("NEW", 10), CodeRow{Code: "new0000003"}),
			wantErr:  ErrConflict,
			wantCode: "NEW0000003",
		},
		{
			// 2,005 codes before it: two full batches or more, whatever the batch size.
			name:     "exists already, after two full batches",
			codes:    append(makeCodes("NEW", 2005), CodeRow{Code: " taken7 "}),
			wantErr:  ErrConflict,
			wantCode: "TAKEN7",
		},
		{
			name:    "empty code",
			codes:   []CodeRow{{Code: "OK1"}, {Code: "  "}},
			wantErr: ErrInvalid,
		},
	}
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		mustOffer(t, s, "a.example", "o1")
		if err := s.AddCodes(ctx, "a.example", "o1", []CodeRow{{Code: "TAKEN7"}}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			err := s.AddCodes(ctx, "a.example", "o1", tt.codes)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("%s: AddCodes = %v; want %v naming %q", tt.name, err, tt.wantErr, tt.wantCode)
			}
			if n := countCodes(t, s, "a.example"); n != 1 {
				t.Errorf("%s: %d codes stored after the failed call; want only the 1 from before", tt.name, n)
			}
		}
	})
}

func TestLookupCode(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		mustOffer(t, s, "a.example", "o1")
		err := s.AddCodes(ctx, "a.example", "o1", []CodeRow{
			{Code: "Summer10"},
			{Code: "vip-ada", CustomerID: "gid://shopify/Customer/42", SingleUse: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			lookup  string
			want    Code
			wantErr error
		}{
			{lookup: "SUMMER10", want: Code{Code: "SUMMER10", OfferID: "o1"}},
			{lookup: "summer10", want: Code{Code: "SUMMER10", OfferID: "o1"}},
			{lookup: " sUmMeR10\t", want: Code{Code: "SUMMER10", OfferID: "o1"}},
			{lookup: "VIP-ADA", want: Code{Code: "VIP-ADA", OfferID: "o1", CustomerID: "gid://shopify/Customer/42", SingleUse: true}},
			{lookup: "summer1", wantErr: ErrNotFound},
			{lookup: "", wantErr: ErrNotFound},
		}
		for _, tt := range tests {
			got, err := s.LookupCode(ctx, "a.example", tt.lookup)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("LookupCode(%q) = %+v, %v; want %v", tt.lookup, got, err, tt.wantErr)
				}
				continue
			}
			if err != nil {
				t.Errorf("LookupCode(%q): %v", tt.lookup, err)
				continue
			}
			tt.want.Shop = "a.example"
			tt.want.CreatedAt = got.CreatedAt
			if got != tt.want || got.CreatedAt.IsZero() {
				t.Errorf("LookupCode(%q) = %+v; want %+v", tt.lookup, got, tt.want)
			}
		}
	})
}

func TestListCodesPages(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		mustOffer(t, s, "a.example", "o1")
		mustOffer(t, s, "a.example", "other")
		if err := s.AddCodes(ctx, "a.example", "o1", makeCodes("P", 250)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddCodes(ctx, "a.example", "other", makeCodes("Q", 10)); err != nil {
			t.Fatal(err)
		}
		var pages []int
		var all []string
		after := ""
		for {
			page, err := s.ListCodes(ctx, "a.example", "o1", 100, after)
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, len(page))
			for _, c := range page {
				all = append(all, c.Code)
			}
			if len(page) < 100 {
				break
			}
			after = page[len(page)-1].Code
		}
		if fmt.Sprint(pages) != "[100 100 50]" {
			t.Errorf("page sizes = %v; want [100 100 50]", pages)
		}
		for i, c := range all {
			if want := fmt.Sprintf("P%07d", i); c != want {
				t.Fatalf("code %d = %s; want %s (in order, no repeats, only this offer's)", i, c, want)
			}
		}
		if page, err := s.ListCodes(ctx, "a.example", "o1", 0, ""); err != nil || len(page) != DefaultCodePage {
			t.Errorf("ListCodes with limit 0 = %d codes, %v; want %d", len(page), err, DefaultCodePage)
		}
	})
}

// TestAddCodesManyBatches stores more codes than several insert batches hold, on both
// databases: every code arrives once. (How fast 100,000 codes are stored is measured by
// BenchmarkAddCodes100k, not asserted here.)
func TestAddCodesManyBatches(t *testing.T) {
	ctx := context.Background()
	const n = 2_345
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		mustOffer(t, s, "a.example", "o1")
		if err := s.AddCodes(ctx, "a.example", "o1", makeCodes("BULK", n)); err != nil {
			t.Fatal(err)
		}
		if got := countCodes(t, s, "a.example"); got != n {
			t.Errorf("%d codes stored; want %d", got, n)
		}
	})
}

func BenchmarkAddCodes100k(b *testing.B) {
	const n = 100_000
	dbs := []struct {
		name  string
		newDB func(testing.TB) testDB
	}{{dialectSQLite, newSQLite}, {dialectPostgres, newPostgres}}
	for _, d := range dbs {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			s := mustOpenMigrated(b, d.newDB(b))
			mustShop(b, s, "a.example")
			run := randomHex(b, 4)
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				offer := fmt.Sprintf("o%s-%d", run, i)
				mustOffer(b, s, "a.example", offer)
				codes := makeCodes(strings.ToUpper(run)+fmt.Sprint(i)+"X", n)
				b.StartTimer()
				if err := s.AddCodes(ctx, "a.example", offer, codes); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "codes/s")
		})
	}
}
