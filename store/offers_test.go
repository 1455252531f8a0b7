package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSaveOfferVersions(t *testing.T) {
	ctx := context.Background()
	// The steps run in order on one offer.
	steps := []struct {
		name        string
		id          string
		config      string
		expected    int64
		wantVersion int64
		wantErr     error
	}{
		{name: "create", id: "o1", config: `{"v":1}`, expected: 0, wantVersion: 1},
		{name: "update at current version", id: "o1", config: `{"v":2}`, expected: 1, wantVersion: 2},
		{name: "stale version", id: "o1", config: `{"v":"stale"}`, expected: 1, wantErr: ErrConflict},
		{name: "version from the future", id: "o1", config: `{"v":"future"}`, expected: 7, wantErr: ErrConflict},
		{name: "create over an existing id", id: "o1", config: `{"v":"again"}`, expected: 0, wantErr: ErrConflict},
		{name: "update at new version", id: "o1", config: `{"v":3}`, expected: 2, wantVersion: 3},
		{name: "update missing offer", id: "o2", config: `{}`, expected: 1, wantErr: ErrNotFound},
		{name: "invalid JSON", id: "o1", config: `{"v":`, expected: 3, wantErr: ErrInvalid},
		{name: "negative version", id: "o1", config: `{}`, expected: -1, wantErr: ErrInvalid},
		{name: "empty id", id: "", config: `{}`, expected: 0, wantErr: ErrInvalid},
	}
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		clock := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
		s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
		mustShop(t, s, "a.example")
		wantConfig := ""
		for _, st := range steps {
			got, err := s.SaveOffer(ctx, "a.example", st.id, "active", []byte(st.config), st.expected)
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Errorf("%s: SaveOffer = %v; want %v", st.name, err, st.wantErr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: SaveOffer: %v", st.name, err)
			}
			if got.Version != st.wantVersion || string(got.Config) != st.config {
				t.Errorf("%s: saved version %d config %s; want %d %s", st.name, got.Version, got.Config, st.wantVersion, st.config)
			}
			wantConfig = st.config
		}
		if _, err := s.SaveOffer(ctx, "a.example", "o9", "", []byte(`{}`), 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveOffer with no status = %v; want ErrInvalid", err)
		}
		got, err := s.GetOffer(ctx, "a.example", "o1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 3 || string(got.Config) != wantConfig || got.Status != "active" || got.DeletedAt != nil {
			t.Errorf("GetOffer = %+v; want version 3, config %s", got, wantConfig)
		}
		if got.CreatedAt.Location() != time.UTC || !got.UpdatedAt.After(got.CreatedAt) {
			t.Errorf("CreatedAt %v, UpdatedAt %v; want UTC, updated after created", got.CreatedAt, got.UpdatedAt)
		}
		if got.CreatedAt.Year() != 2025 || got.CreatedAt.Nanosecond() != 123456000 {
			t.Errorf("CreatedAt = %v; want the store's clock in 2025, to the microsecond (.123456)", got.CreatedAt)
		}
	})
}

func TestSoftDeleteKeepsHistory(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		mustOffer(t, s, "a.example", "keep")
		gone := mustOffer(t, s, "a.example", "gone")
		if err := s.AddCodes(ctx, "a.example", "gone", []CodeRow{{Code: "GONE1"}}); err != nil {
			t.Fatal(err)
		}

		if err := s.DeleteOffer(ctx, "a.example", "gone"); err != nil {
			t.Fatalf("DeleteOffer: %v", err)
		}

		if _, err := s.GetOffer(ctx, "a.example", "gone"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetOffer after delete = %v; want ErrNotFound", err)
		}
		tests := []struct {
			includeDeleted bool
			want           []string
		}{
			{includeDeleted: false, want: []string{"keep"}},
			{includeDeleted: true, want: []string{"keep", "gone"}},
		}
		for _, tt := range tests {
			offers, err := s.ListOffers(ctx, "a.example", tt.includeDeleted)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range offers {
				ids = append(ids, o.ID)
			}
			if !equalSets(ids, tt.want) {
				t.Errorf("ListOffers(includeDeleted=%v) = %v; want %v", tt.includeDeleted, ids, tt.want)
			}
			for _, o := range offers {
				if o.ID != "gone" {
					continue
				}
				if o.DeletedAt == nil || o.Version != gone.Version+1 || string(o.Config) != string(gone.Config) {
					t.Errorf("deleted offer = %+v; want DeletedAt set, version %d, config kept", o, gone.Version+1)
				}
			}
		}
		if _, err := s.LookupCode(ctx, "a.example", "gone1"); err != nil {
			t.Errorf("LookupCode of a deleted offer's code = %v; want it kept", err)
		}

		// A deleted offer can be neither deleted again, nor updated, nor recreated.
		if err := s.DeleteOffer(ctx, "a.example", "gone"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second DeleteOffer = %v; want ErrNotFound", err)
		}
		if _, err := s.SaveOffer(ctx, "a.example", "gone", "active", []byte(`{}`), gone.Version+1); !errors.Is(err, ErrNotFound) {
			t.Errorf("SaveOffer on a deleted offer = %v; want ErrNotFound", err)
		}
		if _, err := s.SaveOffer(ctx, "a.example", "gone", "active", []byte(`{}`), 0); !errors.Is(err, ErrConflict) {
			t.Errorf("recreating a deleted offer's id = %v; want ErrConflict", err)
		}
		if err := s.AddCodes(ctx, "a.example", "gone", []CodeRow{{Code: "GONE2"}}); !errors.Is(err, ErrNotFound) {
			t.Errorf("AddCodes to a deleted offer = %v; want ErrNotFound", err)
		}
	})
}

func TestShopIsolation(t *testing.T) {
	ctx := context.Background()
	const a, b = "a.example", "b.example"
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, a)
		mustShop(t, s, b)
		offer := mustOffer(t, s, a, "o1")
		if err := s.AddCodes(ctx, a, "o1", []CodeRow{{Code: "SHARED"}, {Code: "AONLY"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveSegment(ctx, a, "vip", 1, []byte(`{"a":true}`)); err != nil {
			t.Fatal(err)
		}

		// Shop B tries everything on shop A's ids.
		attempts := []struct {
			name string
			do   func() error
			want error
		}{
			{name: "GetOffer", want: ErrNotFound, do: func() error {
				_, err := s.GetOffer(ctx, b, "o1")
				return err
			}},
			{name: "SaveOffer update", want: ErrNotFound, do: func() error {
				_, err := s.SaveOffer(ctx, b, "o1", "paused", []byte(`{"b":1}`), offer.Version)
				return err
			}},
			{name: "DeleteOffer", want: ErrNotFound, do: func() error { return s.DeleteOffer(ctx, b, "o1") }},
			{name: "AddCodes to A's offer", want: ErrNotFound, do: func() error {
				return s.AddCodes(ctx, b, "o1", []CodeRow{{Code: "BCODE"}})
			}},
			{name: "LookupCode", want: ErrNotFound, do: func() error {
				_, err := s.LookupCode(ctx, b, "aonly")
				return err
			}},
			{name: "DeleteSegment", want: ErrNotFound, do: func() error { return s.DeleteSegment(ctx, b, "vip") }},
			{name: "ListOffers is empty", do: func() error {
				return wantEmpty(s.ListOffers(ctx, b, true))
			}},
			{name: "ListCodes is empty", do: func() error {
				return wantEmpty(s.ListCodes(ctx, b, "o1", 0, ""))
			}},
			{name: "ListSegments is empty", do: func() error {
				return wantEmpty(s.ListSegments(ctx, b))
			}},
		}
		for _, at := range attempts {
			if err := at.do(); !errors.Is(err, at.want) {
				t.Errorf("as shop B, %s = %v; want %v", at.name, err, at.want)
			}
		}

		// Shop B may use the same ids and codes for its own rows, without touching A's.
		mustOffer(t, s, b, "o1")
		if err := s.AddCodes(ctx, b, "o1", []CodeRow{{Code: "shared"}}); err != nil {
			t.Errorf("shop B adding a code shop A also has: %v", err)
		}
		if _, err := s.SaveSegment(ctx, b, "vip", 9, []byte(`{"b":true}`)); err != nil {
			t.Fatal(err)
		}

		got, err := s.GetOffer(ctx, a, "o1")
		if err != nil || got.Version != offer.Version || string(got.Config) != string(offer.Config) || got.Status != offer.Status {
			t.Errorf("shop A's offer = %+v, %v; want it unchanged: %+v", got, err, offer)
		}
		codes, err := s.ListCodes(ctx, a, "o1", 0, "")
		if err != nil || len(codes) != 2 {
			t.Errorf("shop A's codes = %v, %v; want its 2 codes", codes, err)
		}
		segs, err := s.ListSegments(ctx, a)
		if err != nil || len(segs) != 1 || segs[0].Priority != 1 || string(segs[0].Config) != `{"a":true}` {
			t.Errorf("shop A's segments = %+v, %v; want vip unchanged", segs, err)
		}
	})
}

func TestSegments(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s := mustOpenMigrated(t, db)
		mustShop(t, s, "a.example")
		saves := []struct {
			id       string
			priority int
		}{{"c", 3}, {"a", 1}, {"b", 2}, {"c", 0}} // the last one moves c to the top
		for _, sv := range saves {
			if _, err := s.SaveSegment(ctx, "a.example", sv.id, sv.priority, []byte(`{"id":"`+sv.id+`"}`)); err != nil {
				t.Fatalf("SaveSegment(%s): %v", sv.id, err)
			}
		}
		if _, err := s.SaveSegment(ctx, "a.example", "bad", 1, []byte(`not json`)); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveSegment with bad JSON = %v; want ErrInvalid", err)
		}
		segs, err := s.ListSegments(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, sg := range segs {
			order = append(order, sg.ID)
		}
		if !slices.Equal(order, []string{"c", "a", "b"}) {
			t.Errorf("ListSegments order = %v; want [c a b]", order)
		}
		if err := s.DeleteSegment(ctx, "a.example", "a"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSegment(ctx, "a.example", "a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second DeleteSegment = %v; want ErrNotFound", err)
		}
		if segs, _ := s.ListSegments(ctx, "a.example"); len(segs) != 2 {
			t.Errorf("after delete, %d segments; want 2", len(segs))
		}
	})
}

func wantEmpty[T any](list []T, err error) error {
	if err != nil {
		return err
	}
	if len(list) != 0 {
		return errors.New("not empty")
	}
	return nil
}

func equalSets(a, b []string) bool {
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
