package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "a.example", "b.example")
		access, refresh := testNow().Add(time.Hour), testNow().Add(90*24*time.Hour)
		first := Tokens{
			AccessCiphertext: []byte("sealed-access-1"), AccessExpiresAt: access,
			RefreshCiphertext: []byte("sealed-refresh-1"), RefreshExpiresAt: refresh,
			Scopes: "read_orders,write_discounts",
		}

		if _, err := s.GetTokens(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetTokens before any save = %v; want ErrNotFound", err)
		}
		if err := s.SaveTokens(ctx, "missing.example", first); !errors.Is(err, ErrNotFound) {
			t.Errorf("SaveTokens of a missing shop = %v; want ErrNotFound", err)
		}
		if err := s.SaveTokens(ctx, "a.example", Tokens{Scopes: "read_orders"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveTokens without an access token = %v; want ErrInvalid", err)
		}
		if err := s.SaveTokens(ctx, "a.example", first); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTokens(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.AccessCiphertext, first.AccessCiphertext) || !got.AccessExpiresAt.Equal(access) ||
			!bytes.Equal(got.RefreshCiphertext, first.RefreshCiphertext) || !got.RefreshExpiresAt.Equal(refresh) ||
			got.Scopes != first.Scopes || !got.InstalledAt.Equal(testNow()) || !got.UpdatedAt.Equal(testNow()) {
			t.Errorf("GetTokens = %+v; want %+v installed and updated at %v", got, first, testNow())
		}
		if _, err := s.GetTokens(ctx, "b.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the other shop's tokens = %v; want ErrNotFound", err)
		}

		// A refresh rotates both tokens and keeps the installed time. A token that does not
		// expire has zero expiry times.
		clock.Add(time.Hour)
		rotated := Tokens{AccessCiphertext: []byte("sealed-access-2"), Scopes: "read_orders"}
		if err := s.SaveTokens(ctx, "a.example", rotated); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetTokens(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		if string(got.AccessCiphertext) != "sealed-access-2" || !got.AccessExpiresAt.IsZero() ||
			got.RefreshCiphertext != nil || !got.RefreshExpiresAt.IsZero() ||
			!got.InstalledAt.Equal(testNow()) || !got.UpdatedAt.Equal(testNow().Add(time.Hour)) {
			t.Errorf("GetTokens after rotation = %+v", got)
		}

		if err := s.DeleteTokens(ctx, "a.example"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTokens(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetTokens after DeleteTokens = %v; want ErrNotFound", err)
		}
		if err := s.DeleteTokens(ctx, "a.example"); err != nil {
			t.Errorf("DeleteTokens again = %v; want nil", err)
		}
	})
}

func TestInstallShop(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db, "known.example")
		tokens := Tokens{AccessCiphertext: []byte("sealed"), Scopes: "read_orders"}

		// A new shop: created with an unknown currency and UTC until the install work reads
		// the shop's own.
		shop, err := s.InstallShop(ctx, "new.example", tokens)
		if err != nil {
			t.Fatal(err)
		}
		if shop.Domain != "new.example" || shop.Currency != "" || shop.Timezone != "UTC" || shop.UninstalledAt != nil {
			t.Errorf("InstallShop of a new shop = %+v", shop)
		}

		// A known, uninstalled shop keeps its currency and timezone; the mark is cleared and
		// the credentials are installed now.
		if err := s.MarkUninstalled(ctx, "known.example", time.Time{}); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		shop, err = s.InstallShop(ctx, "known.example", tokens)
		if err != nil {
			t.Fatal(err)
		}
		if shop.Currency != "EUR" || shop.Timezone != "Europe/Paris" || shop.UninstalledAt != nil {
			t.Errorf("InstallShop of a known shop = %+v; want EUR, Europe/Paris, installed", shop)
		}
		got, err := s.GetTokens(ctx, "known.example")
		if err != nil || !got.InstalledAt.Equal(testNow().Add(time.Minute)) {
			t.Errorf("GetTokens = %+v, %v; want installed at %v", got, err, testNow().Add(time.Minute))
		}

		if _, err := s.InstallShop(ctx, "known.example", Tokens{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("InstallShop without an access token = %v; want ErrInvalid", err)
		}
	})
}

// TestMarkUninstalledDeletesTokens: app/uninstalled revokes access in the same transaction
// that marks the shop; a late delivery of an uninstall older than a reinstall changes nothing.
func TestMarkUninstalledDeletesTokens(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, clock := mustHistoryStore(t, db)
		tokens := Tokens{AccessCiphertext: []byte("sealed"), Scopes: "read_orders"}
		for _, shop := range []string{"a.example", "b.example"} {
			if _, err := s.InstallShop(ctx, shop, tokens); err != nil {
				t.Fatal(err)
			}
		}
		clock.Add(time.Hour)

		if err := s.MarkUninstalled(ctx, "a.example", testNow().Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTokens(ctx, "a.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("tokens after uninstall = %v; want ErrNotFound", err)
		}
		if shop, err := s.GetShop(ctx, "a.example"); err != nil || shop.UninstalledAt == nil {
			t.Errorf("shop after uninstall = %+v, %v; want it marked", shop, err)
		}
		if _, err := s.GetTokens(ctx, "b.example"); err != nil {
			t.Errorf("the other shop's tokens after uninstall = %v; want kept", err)
		}

		// Reinstalled at testNow+1h; an uninstall event from before that arrives late.
		if _, err := s.InstallShop(ctx, "a.example", tokens); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkUninstalled(ctx, "a.example", testNow().Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTokens(ctx, "a.example"); err != nil {
			t.Errorf("tokens after a stale uninstall = %v; want kept", err)
		}
		if shop, err := s.GetShop(ctx, "a.example"); err != nil || shop.UninstalledAt != nil {
			t.Errorf("shop after a stale uninstall = %+v, %v; want installed", shop, err)
		}

		// The shop's data going (shop/redact) takes its tokens too.
		if err := s.DeleteShopData(ctx, "b.example"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTokens(ctx, "b.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("tokens after DeleteShopData = %v; want ErrNotFound", err)
		}
	})
}
