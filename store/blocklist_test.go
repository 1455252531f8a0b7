package store

import (
	"context"
	"errors"
	"testing"

	"github.com/regularsapp/regulars/discountfn"
)

func TestBlockList(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		buyer := discountfn.Buyer{CustomerID: "gid://shopify/Customer/1", Email: "ada@example.com"}
		if f := mustFacts(t, s, "a.example", buyer); f.Blocked != nil {
			t.Errorf("Blocked before blocking = %v; want nil", f.Blocked)
		}

		b, err := s.BlockIdentity(ctx, "a.example", "email:ada@example.com", "chargebacks")
		if err != nil || b.Reason != "chargebacks" || b.CreatedAt.IsZero() {
			t.Fatalf("BlockIdentity = %+v, %v", b, err)
		}
		if _, err := s.BlockIdentity(ctx, "a.example", "phone:+441234567", "shared phone"); err != nil {
			t.Fatal(err)
		}
		// Blocking again replaces the reason.
		if b, err := s.BlockIdentity(ctx, "a.example", "email:ada@example.com", "fraud"); err != nil || b.Reason != "fraud" {
			t.Fatalf("BlockIdentity again = %+v, %v", b, err)
		}
		for _, bad := range []string{"", "email:", "nickname:ada", "ada@example.com"} {
			if _, err := s.BlockIdentity(ctx, "a.example", bad, ""); !errors.Is(err, ErrInvalid) {
				t.Errorf("BlockIdentity(%q) = %v; want ErrInvalid", bad, err)
			}
		}
		if _, err := s.BlockIdentity(ctx, "nowhere.example", "email:ada@example.com", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("BlockIdentity in an unknown shop = %v; want ErrNotFound", err)
		}

		// Facts names only the buyer's own keys.
		f := mustFacts(t, s, "a.example", buyer)
		if len(f.Blocked) != 1 || !f.Blocked["email:ada@example.com"] {
			t.Errorf("Blocked = %v; want the email only", f.Blocked)
		}
		if f := mustFacts(t, s, "a.example", discountfn.Buyer{Email: "bob@example.com"}); f.Blocked != nil {
			t.Errorf("another buyer's Blocked = %v", f.Blocked)
		}
		// Cross-shop isolation.
		if f := mustFacts(t, s, "b.example", buyer); f.Blocked != nil {
			t.Errorf("Blocked in shop b = %v", f.Blocked)
		}
		if list, err := s.ListBlocked(ctx, "b.example"); err != nil || len(list) != 0 {
			t.Errorf("ListBlocked(b) = %v, %v", list, err)
		}
		if err := s.UnblockIdentity(ctx, "b.example", "email:ada@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UnblockIdentity from shop b = %v; want ErrNotFound", err)
		}

		list, err := s.ListBlocked(ctx, "a.example")
		if err != nil || len(list) != 2 {
			t.Fatalf("ListBlocked = %+v, %v", list, err)
		}
		if err := s.UnblockIdentity(ctx, "a.example", "email:ada@example.com"); err != nil {
			t.Fatal(err)
		}
		if f := mustFacts(t, s, "a.example", buyer); f.Blocked != nil {
			t.Errorf("Blocked after unblocking = %v", f.Blocked)
		}
		if err := s.UnblockIdentity(ctx, "a.example", "email:ada@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UnblockIdentity again = %v; want ErrNotFound", err)
		}
	})
}

func TestSharedIdentities(t *testing.T) {
	ctx := context.Background()
	eachDB(t, func(t *testing.T, db testDB) {
		s, _ := mustHistoryStore(t, db, "a.example", "b.example")
		order := func(shop, id, customer, email, phone, ip string) {
			mustUpsertOrder(t, s, testOrder(shop, id, func(o *Order) {
				o.CustomerID, o.Email, o.Phone, o.BrowserIP = customer, email, phone, ip
			}))
		}
		// One phone on three accounts (two customers and a guest), an IP on two.
		order("a.example", "1", "gid://shopify/Customer/1", "one@example.com", "+441111111", "10.0.0.1")
		order("a.example", "2", "gid://shopify/Customer/1", "one@example.com", "+441111111", "10.0.0.1")
		order("a.example", "3", "gid://shopify/Customer/2", "two@example.com", "+441111111", "10.0.0.1")
		order("a.example", "4", "", "guest@example.com", "+441111111", "10.0.0.2")
		order("a.example", "5", "gid://shopify/Customer/3", "three@example.com", "+442222222", "10.0.0.2")
		// The same phone in another shop does not count here.
		order("b.example", "1", "gid://shopify/Customer/9", "nine@example.com", "+441111111", "")

		got, err := s.SharedIdentities(ctx, "a.example", 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != (SharedIdentity{IdentityKey: "phone:+441111111", Kind: discountfn.IdentityPhone, Accounts: 3, Orders: 4}) {
			t.Errorf("SharedIdentities(3) = %+v", got)
		}
		got, err = s.SharedIdentities(ctx, "a.example", 2)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, g := range got {
			keys = append(keys, g.IdentityKey)
		}
		want := []string{"phone:+441111111", "ip:10.0.0.1", "ip:10.0.0.2"}
		if len(keys) != len(want) || keys[0] != want[0] || keys[1] != want[1] || keys[2] != want[2] {
			t.Errorf("SharedIdentities(2) keys = %v; want %v", keys, want)
		}
		if got, err := s.SharedIdentities(ctx, "b.example", 1); err != nil || len(got) != 0 {
			t.Errorf("SharedIdentities in shop b = %+v, %v; want none (one account)", got, err)
		}
	})
}
