package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestSettings(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")

		// A shop that saved nothing has the defaults, with its own timezone.
		got, err := s.GetSettings(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultShopSettings()
		want.Timezone = "Europe/Paris"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetSettings before saving = %+v; want %+v", got, want)
		}
		if d := DefaultShopSettings(); d.CountTestOrders || d.CountCancelled || d.CountFullyRefunded ||
			d.CountUnpaidCOD || !d.ReleaseUsageOnCancel || len(d.CODGateways) == 0 || d.Timezone != "UTC" {
			t.Errorf("DefaultShopSettings = %+v; want nothing extra counted, usage released on cancel, COD gateways, UTC", d)
		}

		// Saving replaces everything and moves the shop's timezone.
		saved := ShopSettings{
			Timezone:        "America/New_York",
			CountTestOrders: true,
			CountUnpaidCOD:  true,
			CODGateways:     []string{" Pay at the door ", ""},
		}
		if err := s.SaveSettings(ctx, "a.example", saved); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetSettings(ctx, "a.example")
		if err != nil {
			t.Fatal(err)
		}
		want = ShopSettings{
			Timezone:        "America/New_York",
			CountTestOrders: true,
			CountUnpaidCOD:  true,
			CODGateways:     []string{"Pay at the door"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetSettings after saving = %+v; want %+v", got, want)
		}
		if shop, err := s.GetShop(ctx, "a.example"); err != nil || shop.Timezone != "America/New_York" {
			t.Errorf("GetShop after saving settings = %+v, %v; want timezone America/New_York", shop, err)
		}

		// One timezone per shop: UpsertShop moves the settings' timezone too, and an empty
		// timezone in SaveSettings keeps the shop's.
		if _, err := s.UpsertShop(ctx, Shop{Domain: "a.example", Currency: "EUR", Timezone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		saved.Timezone = ""
		if err := s.SaveSettings(ctx, "a.example", saved); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetSettings(ctx, "a.example"); err != nil || got.Timezone != "Asia/Tokyo" || !got.CountTestOrders {
			t.Errorf("GetSettings after UpsertShop and saving without a timezone = %+v, %v; want Asia/Tokyo", got, err)
		}

		// An empty gateway list is a choice, kept as such.
		if err := s.SaveSettings(ctx, "a.example", ShopSettings{CODGateways: []string{}}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetSettings(ctx, "a.example"); err != nil || len(got.CODGateways) != 0 || got.ReleaseUsageOnCancel {
			t.Errorf("GetSettings after saving no gateways = %+v, %v; want none and no release on cancel", got, err)
		}

		// A setting missing from the stored JSON (saved by an older version) is its default.
		if err := s.db.Exec(`UPDATE shops SET settings = ? WHERE domain = ?`, `{"count_cancelled":true}`, "a.example").Error; err != nil {
			t.Fatal(err)
		}
		got, err = s.GetSettings(ctx, "a.example")
		if err != nil || !got.CountCancelled || !got.ReleaseUsageOnCancel || !reflect.DeepEqual(got.CODGateways, DefaultShopSettings().CODGateways) {
			t.Errorf("GetSettings of partial JSON = %+v, %v; want defaults for what is missing", got, err)
		}

		// The other shop still has the defaults.
		if got, err := s.GetSettings(ctx, "b.example"); err != nil || got.CountTestOrders || got.Timezone != "Europe/Paris" {
			t.Errorf("GetSettings of the other shop = %+v, %v; want defaults", got, err)
		}

		if err := s.SaveSettings(ctx, "a.example", ShopSettings{Timezone: "Mars/Olympus_Mons"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveSettings with an unknown timezone = %v; want ErrInvalid", err)
		}
		if _, err := s.GetSettings(ctx, "missing.example"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetSettings of a missing shop = %v; want ErrNotFound", err)
		}
		if err := s.SaveSettings(ctx, "missing.example", DefaultShopSettings()); !errors.Is(err, ErrNotFound) {
			t.Errorf("SaveSettings of a missing shop = %v; want ErrNotFound", err)
		}
	})
}
