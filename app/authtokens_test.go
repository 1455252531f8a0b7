package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
)

// installed runs the code grant for shop through the token service, as the callback does.
func (e *authEnv) installed(t *testing.T, shop string) {
	t.Helper()
	if err := e.tokens.installWithCode(context.Background(), shop, e.platform.issueCode(shop)); err != nil {
		t.Fatalf("install %s: %v", shop, err)
	}
}

func TestAccessTokenRefresh(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)

		if _, err := env.tokens.AccessToken(ctx, shopA); !errors.Is(err, ErrNotInstalled) {
			t.Fatalf("AccessToken before install = %v, want ErrNotInstalled", err)
		}
		env.installed(t, shopA)
		first := env.platform.accessToken(shopA)
		before, err := st.GetTokens(ctx, shopA)
		if err != nil {
			t.Fatal(err)
		}

		// More than five minutes left: the stored token, no refresh.
		env.clock.Add(54 * time.Minute)
		if tok, err := env.tokens.AccessToken(ctx, shopA); err != nil || tok != first {
			t.Fatalf("AccessToken with 6 minutes left = %q, %v; want %q", tok, err, first)
		}
		if n := env.platform.count("refresh"); n != 0 {
			t.Fatalf("refreshed %d times with 6 minutes left", n)
		}

		// Within five minutes: refreshed; both tokens rotate and are stored.
		env.clock.Add(2 * time.Minute)
		tok, err := env.tokens.AccessToken(ctx, shopA)
		if err != nil {
			t.Fatal(err)
		}
		if tok == first || tok != env.platform.accessToken(shopA) || env.platform.count("refresh") != 1 {
			t.Fatalf("AccessToken near expiry = %q (refreshes %d); want the new token %q", tok, env.platform.count("refresh"), env.platform.accessToken(shopA))
		}
		after, err := st.GetTokens(ctx, shopA)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(after.RefreshCiphertext, before.RefreshCiphertext) || !after.AccessExpiresAt.Equal(env.clock.Now().Add(time.Hour)) ||
			!after.InstalledAt.Equal(before.InstalledAt) || after.Scopes != DefaultScopes {
			t.Errorf("stored tokens after refresh = %+v; before %+v", after, before)
		}
		// The old refresh token was used once: the platform no longer accepts it, and the
		// new one is what is stored (the next refresh works).
		env.clock.Add(56 * time.Minute)
		if tok2, err := env.tokens.AccessToken(ctx, shopA); err != nil || tok2 == tok || env.platform.count("refresh") != 2 {
			t.Errorf("second refresh = %q, %v (refreshes %d)", tok2, err, env.platform.count("refresh"))
		}

		// A refused refresh (revoked) asks for a new authorization.
		env.clock.Add(56 * time.Minute)
		env.platform.failNextWith("invalid_grant")
		if _, err := env.tokens.AccessToken(ctx, shopA); !errors.Is(err, ErrReauthorize) {
			t.Errorf("AccessToken with a refused refresh = %v, want ErrReauthorize", err)
		}
	})
}

func TestAccessTokenExpiredRefreshToken(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)
		env.installed(t, shopA)
		env.clock.Add(91 * 24 * time.Hour) // past both lifetimes
		if _, err := env.tokens.AccessToken(ctx, shopA); !errors.Is(err, ErrReauthorize) {
			t.Errorf("AccessToken = %v, want ErrReauthorize", err)
		}
		if n := env.platform.count("refresh"); n != 0 {
			t.Errorf("tried %d refreshes with an expired refresh token", n)
		}
		// Uninstalling deletes the tokens: not installed.
		if err := st.MarkUninstalled(ctx, shopA, env.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := env.tokens.AccessToken(ctx, shopA); !errors.Is(err, ErrNotInstalled) {
			t.Errorf("AccessToken after uninstall = %v, want ErrNotInstalled", err)
		}
	})
}

// TestAccessTokenConcurrentRefresh: callers racing for a token about to expire refresh it
// once (a second refresh would use the already-rotated refresh token) and all get the new one.
func TestAccessTokenConcurrentRefresh(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		env := newAuthEnv(t, st)
		env.installed(t, shopA)
		env.installed(t, shopB)
		env.clock.Add(58 * time.Minute)

		const callers = 16
		var wg sync.WaitGroup
		got := make([]string, 2*callers)
		errs := make([]error, 2*callers)
		for i := range got {
			shop := []string{shopA, shopB}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = env.tokens.AccessToken(ctx, shop)
			}()
		}
		wg.Wait()
		for i := range got {
			shop := []string{shopA, shopB}[i%2]
			if errs[i] != nil || got[i] != env.platform.accessToken(shop) {
				t.Errorf("caller %d: %q, %v; want %q", i, got[i], errs[i], env.platform.accessToken(shop))
			}
		}
		if n := env.platform.count("refresh"); n != 2 {
			t.Errorf("%d refreshes for two shops, want 2", n)
		}
	})
}

func TestShopLocksCancel(t *testing.T) {
	var l shopLocks
	unlock, err := l.lock(context.Background(), shopA)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.lock(ctx, shopA); !errors.Is(err, context.Canceled) {
		t.Errorf("lock of a held shop with a cancelled context = %v, want context.Canceled", err)
	}
	// Another shop is not held.
	unlockB, err := l.lock(ctx, shopB)
	if err == nil {
		unlockB()
	}
	unlock()
	unlock2, err := l.lock(context.Background(), shopA)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
	if len(l.m) != 0 {
		t.Errorf("%d lock entries left after every unlock", len(l.m))
	}
}

func TestMissingScopes(t *testing.T) {
	tests := []struct {
		required []string
		granted  string
		want     []string
	}{
		{strings.Split(DefaultScopes, ","), DefaultScopes, nil},
		{[]string{"read_orders", "read_discounts"}, "write_orders,write_discounts", nil}, // write implies read
		{[]string{"write_orders"}, "read_orders", []string{"write_orders"}},
		{[]string{"read_all_orders"}, "write_orders", []string{"read_all_orders"}},
		{[]string{"read_orders"}, "", []string{"read_orders"}},
		{[]string{"read_orders"}, " read_orders , read_products", nil},
	}
	for _, tt := range tests {
		if got := missingScopes(tt.required, tt.granted); !slices.Equal(got, tt.want) {
			t.Errorf("missingScopes(%q, %q) = %q, want %q", tt.required, tt.granted, got, tt.want)
		}
	}
}
