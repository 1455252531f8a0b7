package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regularsapp/regulars/store/storetest"
)

// TestRun starts the whole service as `make run` does, on SQLite and on PostgreSQL: the demo
// shop is seeded, its history goes through the webhook pipeline, and the endpoints answer.
func TestRun(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testRun(t, "sqlite:"+filepath.Join(t.TempDir(), "run.db")) })
	t.Run("postgres", func(t *testing.T) { testRun(t, storetest.NewPostgresDSN(t)) })
}

func testRun(t *testing.T, dsn string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, stdout := io.Pipe()
	env := map[string]string{"REGULARS_ADDR": "127.0.0.1:0", "REGULARS_CHECKOUT_DEADLINE": "500ms", "DATABASE_URL": dsn}

	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(ctx, nil, func(k string) string { return env[k] }, stdout)
		stdout.Close()
	}()

	// Read stdout until the "listening" record, keeping the development banner, then keep
	// draining so Run never blocks on its logger.
	var banner strings.Builder
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
				break
			}
			banner.WriteString(line + "\n")
		}
		_, _ = io.Copy(io.Discard, out)
	}()

	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-runErr:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not report listening within 10s")
	}

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}

	t.Run("development banner", func(t *testing.T) {
		text := banner.String() // written before "listening", so complete
		if !strings.Contains(text, "DEVELOPMENT MODE") {
			t.Fatalf("no development banner:\n%s", text)
		}
		m := regexp.MustCompile(`curl -sS -X POST '([^']+)' -H 'Authorization: Bearer ([^']+)' -H 'Content-Type: application/json' --data '([^']+)'`).
			FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no curl command in the banner:\n%s", text)
		}
		url, token, data := m[1], m[2], m[3]
		if shop, err := VerifyCheckoutToken([]byte(DevCheckoutSigningKey), token, time.Now()); err != nil || shop != demoShop {
			t.Errorf("banner token: shop %q, err %v", shop, err)
		}
		if !strings.HasPrefix(url, base) {
			t.Errorf("curl URL %q is not on %s", url, base)
		}
		// Run the printed command as printed, when curl is available.
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl not installed")
		}
		got, err := exec.CommandContext(ctx, "sh", "-c", m[0]).Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		assertRunResult(t, "cart_lines", got)
		if !strings.HasPrefix(data, "{") {
			t.Errorf("curl data is not JSON: %s", data)
		}
	})

	t.Run("demo history processed by the workers", func(t *testing.T) {
		// Rita's six orders arrive as webhooks; once the workers have stored them she
		// qualifies for the regulars' reward.
		in := inputDoc(1, "")
		in["cart"].(map[string]any)["buyerIdentity"] = map[string]any{"isAuthenticated": true,
			"customer": map[string]any{"id": "gid://shopify/Customer/1", "email": "rita@example.com", "numberOfOrders": 6}}
		in["enteredDiscountCodes"] = []string{"REGULAR15"}
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Post(base+"/dev/api/simulate", "application/json", strings.NewReader(string(mustJSON(t, in))))
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if strings.Contains(string(body), `"offer_id":"demo-regulars-15","title":"15% off for our regulars","classes":["ORDER"],"applied":true`) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the regular never qualified: %s", body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop within 15s of cancel")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after Run returned")
	}
}

func TestRunRefusesBadStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"arguments", []string{"serve"}, nil, "unexpected arguments"},
		{"production without key", nil, map[string]string{"REGULARS_ENV": "production"}, "REGULARS_CHECKOUT_SIGNING_KEY"},
		{"address in use", nil, map[string]string{"REGULARS_ADDR": taken.Addr().String(),
			"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "a.db")}, "listen on " + taken.Addr().String()},
		{"unreachable database", nil, map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/none?connect_timeout=2"}, "open database"},
		{"not a database URL", nil, map[string]string{"DATABASE_URL": "mysql://x"}, "open database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
