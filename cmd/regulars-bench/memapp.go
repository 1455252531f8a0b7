package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/regularsapp/regulars/app"
	"github.com/regularsapp/regulars/discountfn"
	"github.com/regularsapp/regulars/store"
)

// The memory app is the app's real HTTP server and checkout handler (app.New) with its
// checkout source replaced by app.MemorySource, filled before it listens with the generated
// shops' offers (compiled from the store) and the facts of every buyer of the carts (read
// from the store). It answers the same carts with the same answers, without a database query
// per call: the ceiling of serving offers and facts from memory, which the targets ask for,
// measured now so that the gap to it can be watched while the caches are built.

// memState is what the memory app preloads, besides the offers it reads itself.
type memState struct {
	Shops []memShop `json:"shops"`
}

type memShop struct {
	Shop   string                 `json:"shop"`
	Buyers []memBuyer             `json:"buyers"`
	Codes  discountfn.MapCodeBook `json:"codes"`
}

type memBuyer struct {
	Buyer discountfn.Buyer `json:"buyer"`
	Facts discountfn.Facts `json:"facts"`
}

// memStateOf is the state for the shops' carts: every buyer's facts and the unique codes the
// carts enter.
func memStateOf(ctx context.Context, shops []*shopView) (memState, error) {
	var st memState
	for _, v := range shops {
		ms := memShop{Shop: v.domain, Codes: discountfn.MapCodeBook{}}
		for b, f := range v.facts {
			if b.Known() {
				ms.Buyers = append(ms.Buyers, memBuyer{Buyer: b, Facts: f})
			}
		}
		for _, codes := range v.codes {
			for _, c := range codes {
				e, ok := codeBook{ctx: ctx, st: v.st, shop: v.domain}.Lookup(c)
				if ok {
					ms.Codes[store.NormalizeCode(c)] = e
				}
			}
		}
		st.Shops = append(st.Shops, ms)
	}
	return st, nil
}

// serveMemApp is `regulars-bench serve-memapp STATE.json`: the memory app, configured from
// the environment as the app is (DATABASE_URL names the store to read the offers from), until
// SIGINT or SIGTERM. It prints {"msg":"listening","addr":...} once it listens.
func serveMemApp(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: regulars-bench serve-memapp STATE.json")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv(envCPUProfile); path != "" {
		go profileOnSignal(ctx, path)
	}
	cfg, err := app.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var state memState
	if err := json.Unmarshal(doc, &state); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	mem := app.NewMemorySource()
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	for _, s := range state.Shops {
		set, _, err := compileShop(ctx, st, s.Shop)
		if err != nil {
			_ = st.Close()
			return err
		}
		mem.SetOffers(s.Shop, set, s.Codes)
		for _, b := range s.Buyers {
			mem.SetFacts(s.Shop, b.Buyer, b.Facts)
		}
	}
	if err := st.Close(); err != nil {
		return err
	}
	srv := app.New(cfg, app.Deps{Source: mem, Now: time.Now})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.App().Listener(ln) }()
	fmt.Fprintf(stdout, `{"msg":"listening","addr":%q}`+"\n", ln.Addr().String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.App().ShutdownWithContext(shutdown)
}
