package app

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	strongKey := strings.Repeat("k", minSigningKeyBytes)
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // each must appear in the error; nil means success
	}{
		{
			name: "defaults are development",
			env:  map[string]string{},
			want: Config{
				Addr: ":8080", Env: EnvDevelopment, CheckoutSigningKey: []byte(DevCheckoutSigningKey),
				CheckoutDeadline: 250 * time.Millisecond, MaxBodyBytes: 4 << 20,
				AppSecrets: [][]byte{[]byte(DevAppSecret)}, WebhookWorkers: 4,
			},
		},
		{
			name: "everything set",
			env: map[string]string{
				"REGULARS_ADDR": "127.0.0.1:9000", "REGULARS_ENV": "production",
				"REGULARS_CHECKOUT_SIGNING_KEY": strongKey + "\n", "REGULARS_CHECKOUT_DEADLINE": "1.5s",
				"REGULARS_MAX_BODY_BYTES": "1280000", "DATABASE_URL": "postgres://regulars@db/regulars",
				"SHOPIFY_API_SECRET": "new-secret\n", "SHOPIFY_API_SECRET_PREVIOUS": "old-secret",
				"REGULARS_WEBHOOK_WORKERS": "0",
			},
			want: Config{
				Addr: "127.0.0.1:9000", Env: EnvProduction, CheckoutSigningKey: []byte(strongKey),
				CheckoutDeadline: 1500 * time.Millisecond, MaxBodyBytes: 1280000,
				DatabaseURL: "postgres://regulars@db/regulars",
				AppSecrets:  [][]byte{[]byte("new-secret"), []byte("old-secret")}, WebhookWorkers: 0,
			},
		},
		{
			name: "deadline bounds are inclusive",
			env:  map[string]string{"REGULARS_CHECKOUT_DEADLINE": "10ms"},
			want: Config{
				Addr: ":8080", Env: EnvDevelopment, CheckoutSigningKey: []byte(DevCheckoutSigningKey),
				CheckoutDeadline: 10 * time.Millisecond, MaxBodyBytes: 4 << 20,
				AppSecrets: [][]byte{[]byte(DevAppSecret)}, WebhookWorkers: 4,
			},
		},
		{
			name:    "production requires a key",
			env:     map[string]string{"REGULARS_ENV": "production"},
			wantErr: []string{"REGULARS_CHECKOUT_SIGNING_KEY is required in production", "SHOPIFY_API_SECRET is required in production"},
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
			if fmt.Sprint(got.AppSecrets) != fmt.Sprint(tt.want.AppSecrets) {
				t.Errorf("AppSecrets = %q, want %q", got.AppSecrets, tt.want.AppSecrets)
			}
			if got.Addr != tt.want.Addr || got.Env != tt.want.Env || got.CheckoutDeadline != tt.want.CheckoutDeadline ||
				got.MaxBodyBytes != tt.want.MaxBodyBytes || got.DatabaseURL != tt.want.DatabaseURL ||
				got.WebhookWorkers != tt.want.WebhookWorkers {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
