package app

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	strongKey := strings.Repeat("k", minSigningKeyBytes)
	tokenKey := []byte("0123456789abcdef0123456789ABCDEF") // 32 bytes
	tokenKeyB64 := base64.StdEncoding.EncodeToString(tokenKey)
	defaultScopes := strings.Split(DefaultScopes, ",")
	// dev is the development defaults with edit applied.
	dev := func(edit func(*Config)) Config {
		c := Config{
			Addr: ":8080", Env: EnvDevelopment, CheckoutSigningKey: []byte(DevCheckoutSigningKey),
			CheckoutDeadline: 250 * time.Millisecond, MaxBodyBytes: 4 << 20,
			AppSecrets: [][]byte{[]byte(DevAppSecret)}, WebhookWorkers: 4,
			ClientID: DevClientID, AppURL: "http://localhost:8080", TokenKey: []byte(DevTokenKey), Scopes: defaultScopes,
		}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // each must appear in the error; nil means success
	}{
		{
			name: "defaults are development",
			env:  map[string]string{},
			want: dev(nil),
		},
		{
			name: "everything set",
			env: map[string]string{
				"REGULARS_ADDR": "127.0.0.1:9000", "REGULARS_ENV": "production",
				"REGULARS_CHECKOUT_SIGNING_KEY": strongKey + "\n", "REGULARS_CHECKOUT_DEADLINE": "1.5s",
				"REGULARS_MAX_BODY_BYTES": "1280000", "DATABASE_URL": "postgres://regulars@db/regulars",
				"SHOPIFY_API_SECRET": "new-secret\n", "SHOPIFY_API_SECRET_PREVIOUS": "old-secret",
				"REGULARS_WEBHOOK_WORKERS": "0", "SHOPIFY_API_KEY": "prod-client-id",
				"REGULARS_APP_URL": "https://regulars.example.com/", "REGULARS_PLATFORM_URL": "http://127.0.0.1:8081",
				"REGULARS_TOKEN_KEY": tokenKeyB64 + "\n", "SHOPIFY_SCOPES": " read_orders, write_discounts,read_orders",
			},
			want: Config{
				Addr: "127.0.0.1:9000", Env: EnvProduction, CheckoutSigningKey: []byte(strongKey),
				CheckoutDeadline: 1500 * time.Millisecond, MaxBodyBytes: 1280000,
				DatabaseURL: "postgres://regulars@db/regulars",
				AppSecrets:  [][]byte{[]byte("new-secret"), []byte("old-secret")}, WebhookWorkers: 0,
				ClientID: "prod-client-id", AppURL: "https://regulars.example.com", PlatformURL: "http://127.0.0.1:8081",
				TokenKey: tokenKey, Scopes: []string{"read_orders", "write_discounts"},
			},
		},
		{
			name: "token key in the URL alphabet without padding",
			env:  map[string]string{"REGULARS_TOKEN_KEY": base64.RawURLEncoding.EncodeToString(tokenKey)},
			want: dev(func(c *Config) { c.TokenKey = tokenKey }),
		},
		{
			name:    "production requires a token key",
			env:     map[string]string{"REGULARS_ENV": "production"},
			wantErr: []string{"REGULARS_TOKEN_KEY is required in production"},
		},
		{
			name:    "production refuses the development token key",
			env:     map[string]string{"REGULARS_ENV": "production", "REGULARS_TOKEN_KEY": base64.StdEncoding.EncodeToString([]byte(DevTokenKey))},
			wantErr: []string{"REGULARS_TOKEN_KEY: the development key"},
		},
		{
			name:    "token key not base64",
			env:     map[string]string{"REGULARS_TOKEN_KEY": "not base64!"},
			wantErr: []string{"REGULARS_TOKEN_KEY is not base64"},
		},
		{
			name:    "token key of the wrong length",
			env:     map[string]string{"REGULARS_TOKEN_KEY": base64.StdEncoding.EncodeToString(tokenKey[:16])},
			wantErr: []string{"REGULARS_TOKEN_KEY must decode to 32 bytes, got 16"},
		},
		{
			name:    "app URL not absolute",
			env:     map[string]string{"REGULARS_APP_URL": "localhost:8080"},
			wantErr: []string{"REGULARS_APP_URL", "http:// or https://"},
		},
		{
			name:    "app URL with a query",
			env:     map[string]string{"REGULARS_APP_URL": "https://regulars.example.com/?x=1"},
			wantErr: []string{"REGULARS_APP_URL", "without credentials, query or fragment"},
		},
		{
			name:    "platform URL of another scheme",
			env:     map[string]string{"REGULARS_PLATFORM_URL": "ftp://127.0.0.1:8081"},
			wantErr: []string{"REGULARS_PLATFORM_URL", "http:// or https://"},
		},
		{
			name:    "platform URL without host",
			env:     map[string]string{"REGULARS_PLATFORM_URL": "http://"},
			wantErr: []string{"REGULARS_PLATFORM_URL", "has no host"},
		},
		{
			name:    "scope list with an empty entry",
			env:     map[string]string{"SHOPIFY_SCOPES": "read_orders,,write_discounts"},
			wantErr: []string{`SHOPIFY_SCOPES: "" is not a scope`},
		},
		{
			name:    "scope list with a malformed entry",
			env:     map[string]string{"SHOPIFY_SCOPES": "read_orders,Write-Discounts"},
			wantErr: []string{`SHOPIFY_SCOPES: "Write-Discounts" is not a scope`},
		},
		{
			name: "profiler on loopback",
			env:  map[string]string{"REGULARS_DEBUG_ADDR": " 127.0.0.1:6060 "},
			want: dev(func(c *Config) { c.DebugAddr = "127.0.0.1:6060" }),
		},
		{
			name:    "profiler on a public address",
			env:     map[string]string{"REGULARS_DEBUG_ADDR": "0.0.0.0:6060"},
			wantErr: []string{"REGULARS_DEBUG_ADDR", "not a loopback address"},
		},
		{
			name:    "profiler address without a port",
			env:     map[string]string{"REGULARS_DEBUG_ADDR": "localhost"},
			wantErr: []string{"REGULARS_DEBUG_ADDR", "not host:port"},
		},
		{
			name: "deadline bounds are inclusive",
			env:  map[string]string{"REGULARS_CHECKOUT_DEADLINE": "10ms"},
			want: dev(func(c *Config) { c.CheckoutDeadline = 10 * time.Millisecond }),
		},
		{
			name:    "production requires a key",
			env:     map[string]string{"REGULARS_ENV": "production"},
			wantErr: []string{"REGULARS_CHECKOUT_SIGNING_KEY is required in production", "SHOPIFY_API_SECRET is required in production", "REGULARS_TOKEN_KEY is required in production"},
		},
		{
			name:    "production refuses the development app secret",
			env:     map[string]string{"REGULARS_ENV": "production", "SHOPIFY_API_SECRET": DevAppSecret},
			wantErr: []string{"SHOPIFY_API_SECRET: the development secret"},
		},
		{
			name:    "worker count out of range",
			env:     map[string]string{"REGULARS_WEBHOOK_WORKERS": "65"},
			wantErr: []string{"REGULARS_WEBHOOK_WORKERS: 65 is outside 0..64"},
		},
		{
			name:    "worker count not a number",
			env:     map[string]string{"REGULARS_WEBHOOK_WORKERS": "many"},
			wantErr: []string{`REGULARS_WEBHOOK_WORKERS: "many" is not a whole number`},
		},
		{
			name:    "production refuses the development key",
			env:     map[string]string{"REGULARS_ENV": "production", "REGULARS_CHECKOUT_SIGNING_KEY": DevCheckoutSigningKey},
			wantErr: []string{"REGULARS_CHECKOUT_SIGNING_KEY: the development key"},
		},
		{
			name:    "short key",
			env:     map[string]string{"REGULARS_CHECKOUT_SIGNING_KEY": "hunter2"},
			wantErr: []string{"REGULARS_CHECKOUT_SIGNING_KEY: must be at least 32 bytes"},
		},
		{
			name:    "unknown environment",
			env:     map[string]string{"REGULARS_ENV": "staging"},
			wantErr: []string{`REGULARS_ENV: "staging" must be`},
		},
		{
			name:    "address without port",
			env:     map[string]string{"REGULARS_ADDR": "localhost"},
			wantErr: []string{`REGULARS_ADDR: "localhost" is not a host:port`},
		},
		{
			name:    "deadline not a duration",
			env:     map[string]string{"REGULARS_CHECKOUT_DEADLINE": "250"},
			wantErr: []string{`REGULARS_CHECKOUT_DEADLINE: "250" is not a duration`},
		},
		{
			name:    "deadline too short",
			env:     map[string]string{"REGULARS_CHECKOUT_DEADLINE": "9ms"},
			wantErr: []string{"REGULARS_CHECKOUT_DEADLINE: 9ms is outside 10ms..1.9s"},
		},
		{
			name:    "deadline too long",
			env:     map[string]string{"REGULARS_CHECKOUT_DEADLINE": "2s"},
			wantErr: []string{"REGULARS_CHECKOUT_DEADLINE: 2s is outside"},
		},
		{
			name:    "body limit not a number",
			env:     map[string]string{"REGULARS_MAX_BODY_BYTES": "256k"},
			wantErr: []string{`REGULARS_MAX_BODY_BYTES: "256k" is not a whole number`},
		},
		{
			name:    "body limit below the platform's input cap",
			env:     map[string]string{"REGULARS_MAX_BODY_BYTES": "65536"},
			wantErr: []string{"REGULARS_MAX_BODY_BYTES: 65536 is outside 1280000.."},
		},
		{
			name: "every problem is reported",
			env: map[string]string{
				"REGULARS_ENV": "production", "REGULARS_CHECKOUT_DEADLINE": "forever", "REGULARS_MAX_BODY_BYTES": "-1",
			},
			wantErr: []string{"REGULARS_CHECKOUT_SIGNING_KEY", "REGULARS_CHECKOUT_DEADLINE", "REGULARS_MAX_BODY_BYTES"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("LoadConfig succeeded with %+v, want an error", got)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if string(got.CheckoutSigningKey) != string(tt.want.CheckoutSigningKey) {
				t.Errorf("CheckoutSigningKey = %q, want %q", got.CheckoutSigningKey, tt.want.CheckoutSigningKey)
			}
			got.CheckoutSigningKey, tt.want.CheckoutSigningKey = nil, nil
			if string(got.TokenKey) != string(tt.want.TokenKey) {
				t.Errorf("TokenKey = %q, want %q", got.TokenKey, tt.want.TokenKey)
			}
			if !slices.Equal(got.Scopes, tt.want.Scopes) {
				t.Errorf("Scopes = %q, want %q", got.Scopes, tt.want.Scopes)
			}
			got.TokenKey, tt.want.TokenKey, got.Scopes, tt.want.Scopes = nil, nil, nil, nil
			if fmt.Sprint(got.AppSecrets) != fmt.Sprint(tt.want.AppSecrets) {
				t.Errorf("AppSecrets = %q, want %q", got.AppSecrets, tt.want.AppSecrets)
			}
			if got.Addr != tt.want.Addr || got.Env != tt.want.Env || got.CheckoutDeadline != tt.want.CheckoutDeadline ||
				got.MaxBodyBytes != tt.want.MaxBodyBytes || got.DatabaseURL != tt.want.DatabaseURL ||
				got.WebhookWorkers != tt.want.WebhookWorkers || got.ClientID != tt.want.ClientID ||
				got.AppURL != tt.want.AppURL || got.PlatformURL != tt.want.PlatformURL {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPlatformURL(t *testing.T) {
	const shop = "shop-a.myshopify.com"
	tests := []struct {
		base, path, want string
	}{
		{"", "/admin/oauth/authorize", "https://shop-a.myshopify.com/admin/oauth/authorize"},
		{"", "/admin/api/2025-10/graphql.json", "https://shop-a.myshopify.com/admin/api/2025-10/graphql.json"},
		{"http://127.0.0.1:8081", "/admin/oauth/access_token", "http://127.0.0.1:8081/shops/shop-a.myshopify.com/admin/oauth/access_token"},
		{"http://127.0.0.1:8081", "/checkout", "http://127.0.0.1:8081/shops/shop-a.myshopify.com/checkout"},
	}
	for _, tt := range tests {
		if got := platformURL(Config{PlatformURL: tt.base}, shop, tt.path); got != tt.want {
			t.Errorf("platformURL(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}
