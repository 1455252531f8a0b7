package app

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/regularsapp/regulars/store/storetest"
)

func TestDevEventStats(t *testing.T) {
	e := newDemoEnv(t, EnvDevelopment, storetest.SQLite(t))
	resp, body := e.do(t, http.MethodGet, "/dev/api/events/stats", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Shop            string  `json:"shop"`
		Pending         int     `json:"pending"`
		Done            int     `json:"done"`
		Failed          int     `json:"failed"`
		LastProcessedAt *string `json:"last_processed_at"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	// newDemoEnv drained the demo shop's history: every event is done.
	if got.Shop != demoShop || got.Done == 0 || got.Pending != 0 || got.Failed != 0 || got.LastProcessedAt == nil {
		t.Errorf("stats = %s; want the demo shop's events all done", body)
	}

	resp, body = e.do(t, http.MethodGet, "/dev/api/events/stats?shop=Other.myshopify.com", "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != `{"done":0,"failed":0,"last_processed_at":null,"pending":0,"shop":"Other.myshopify.com"}` {
		t.Errorf("another shop: %d %s", resp.StatusCode, body)
	}

	prod := newDemoEnv(t, EnvProduction, storetest.SQLite(t))
	if resp, _ := prod.do(t, http.MethodGet, "/dev/api/events/stats", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("production: status %d, want 404", resp.StatusCode)
	}
}
