package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regularsapp/regulars/store"
	"github.com/regularsapp/regulars/store/storetest"
	"github.com/regularsapp/regulars/webhooks"
)

const (
	crashShop   = "crash-test.myshopify.com"
	crashSecret = "crash-test-app-secret"
	// crashCheckoutKey signs the checkout tokens of the apps these tests start.
	crashCheckoutKey = "crash-test-checkout-signing-key-0123456789"
)

// TestKilledAfterAcknowledgementLosesNothing runs the real binary, acknowledges a stream of
// webhook deliveries, kills the process with SIGKILL while they are still arriving (its
// workers are off, so nothing acknowledged has been processed), starts it again with workers,
// and checks that every acknowledged order is stored, exactly once.
func TestKilledAfterAcknowledgementLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) { testKill(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "crash.db")) })
	t.Run("postgres", func(t *testing.T) { testKill(t, bin, storetest.NewPostgresDSN(t)) })
}

func testKill(t *testing.T, bin, dsn string) {
	ctx := context.Background()
	st := storetest.OpenMigrated(t, dsn)
	if _, err := st.UpsertShop(ctx, store.Shop{Domain: crashShop, Currency: "USD", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}

	first := startApp(t, bin, dsn, 0)
	var (
		mu    sync.Mutex
		acked []int64
		wg    sync.WaitGroup
	)
	// Eight senders deliver orders until the process dies under them.
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			client := &http.Client{Timeout: 2 * time.Second}
			for i := 0; i < 200; i++ {
				id := int64(7_000_000_000 + w*1000 + i)
				if deliver(client, first.url, id) != nil {
					return // the process is gone
				}
				mu.Lock()
				acked = append(acked, id)
				n := len(acked)
				mu.Unlock()
				if n == 300 {
					first.kill(t)
				}
			}
		})
	}
	wg.Wait()
	first.kill(t)
	if len(acked) < 300 {
		t.Fatalf("only %d deliveries were acknowledged before the kill", len(acked))
	}

	t.Logf("%d deliveries acknowledged before the kill", len(acked))
	second := startApp(t, bin, dsn, 4)
	defer second.kill(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing := 0
		for _, id := range acked {
			if _, err := st.GetOrder(ctx, crashShop, fmt.Sprint(id)); err != nil {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged orders were never stored after the restart", missing, len(acked))
		}
		time.Sleep(100 * time.Millisecond)
	}
	pending, err := st.ListEvents(ctx, crashShop, store.EventPending, 10)
	if err != nil || len(pending) != 0 {
		t.Errorf("%d events still pending (%v)", len(pending), err)
	}
	failed, err := st.ListEvents(ctx, crashShop, store.EventFailed, 10)
	if err != nil || len(failed) != 0 {
		t.Errorf("%d events failed (%v): %+v", len(failed), err, failed)
	}
}

// deliver posts one signed orders/create delivery and returns nil only on a 2xx.
func deliver(client *http.Client, url string, id int64) error {
	body, _ := json.Marshal(map[string]any{
		"id": id, "email": fmt.Sprintf("buyer%d@example.com", id%50), "created_at": "2026-11-20T10:00:00Z",
		"updated_at": "2026-11-20T10:00:00Z", "currency": "USD", "total_price": "19.99", "subtotal_price": "19.99",
		"financial_status": "paid", "customer": map[string]any{"id": id % 50},
		"line_items": []map[string]any{{"id": id * 10, "product_id": 1, "variant_id": 2, "quantity": 1, "price": "19.99"}},
	})
	status, err := postOrderCreate(client, url, crashShop, id, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("status %d", status)
	}
	return nil
}

// postOrderCreate posts body as the shop's signed orders/create delivery with event id
// evt-<id>, and returns the status.
func postOrderCreate(client *http.Client, url, shop string, id int64, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/webhooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", "orders/create")
	req.Header.Set("X-Shopify-Shop-Domain", shop)
	req.Header.Set("X-Shopify-Event-Id", fmt.Sprint("evt-", id))
	req.Header.Set("X-Shopify-Hmac-Sha256", webhooks.Sign([]byte(crashSecret), body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

type runningApp struct {
	cmd  *exec.Cmd
	url  string
	once sync.Once
}

// startApp starts the binary in production mode on a free port and waits until it listens.
// Extra environment variables (NAME=value) come last and so win.
func startApp(t *testing.T, bin, dsn string, workers int, extraEnv ...string) *runningApp {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"REGULARS_ENV=production",
		"REGULARS_ADDR=127.0.0.1:0",
		"DATABASE_URL="+dsn,
		"SHOPIFY_API_SECRET="+crashSecret,
		"REGULARS_CHECKOUT_SIGNING_KEY="+crashCheckoutKey,
		"REGULARS_TOKEN_KEY=Y3Jhc2gtdGVzdC10b2tlbi1rZXktMDEyMzQ1Njc4OTA=", // 32 bytes
		fmt.Sprint("REGULARS_WEBHOOK_WORKERS=", workers),
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	app := &runningApp{cmd: cmd}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		app.url = "http://" + strings.TrimSpace(a)
	case <-time.After(20 * time.Second):
		app.kill(t)
		t.Fatal("the app did not start listening within 20s")
	}
	return app
}

// kill ends the process with SIGKILL: no shutdown, no flushing.
func (a *runningApp) kill(t *testing.T) {
	a.once.Do(func() {
		if err := a.cmd.Process.Kill(); err != nil {
			t.Errorf("kill: %v", err)
		}
		_ = a.cmd.Wait()
	})
}
