package app

import (
	"strings"
	"testing"
	"time"
)

// TestLoadSyncConfig covers the platform sync's settings (REGULARS_SYNC_WORKERS,
// REGULARS_RECONCILE_INTERVAL).
func TestLoadSyncConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		workers   int
		reconcile time.Duration
		wantErr   string
	}{
		{name: "defaults", env: map[string]string{}, workers: 2, reconcile: 6 * time.Hour},
		{name: "set", env: map[string]string{"REGULARS_SYNC_WORKERS": "8", "REGULARS_RECONCILE_INTERVAL": "30m"}, workers: 8, reconcile: 30 * time.Minute},
		{name: "off", env: map[string]string{"REGULARS_SYNC_WORKERS": "0", "REGULARS_RECONCILE_INTERVAL": "0"}, workers: 0, reconcile: 0},
		{name: "workers not a number", env: map[string]string{"REGULARS_SYNC_WORKERS": "many"}, wantErr: "REGULARS_SYNC_WORKERS"},
		{name: "too many workers", env: map[string]string{"REGULARS_SYNC_WORKERS": "1000"}, wantErr: "REGULARS_SYNC_WORKERS: 1000 is outside 0..64"},
		{name: "interval not a duration", env: map[string]string{"REGULARS_RECONCILE_INTERVAL": "daily"}, wantErr: "REGULARS_RECONCILE_INTERVAL"},
		{name: "interval too short", env: map[string]string{"REGULARS_RECONCILE_INTERVAL": "1s"}, wantErr: "REGULARS_RECONCILE_INTERVAL: 1s is outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SyncWorkers != tt.workers || cfg.ReconcileInterval != tt.reconcile {
				t.Errorf("SyncWorkers %d, ReconcileInterval %v; want %d, %v", cfg.SyncWorkers, cfg.ReconcileInterval, tt.workers, tt.reconcile)
			}
		})
	}
}
