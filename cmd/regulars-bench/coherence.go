package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/regularsapp/regulars/app"
	"github.com/regularsapp/regulars/standin"
	"github.com/regularsapp/regulars/store"
)

// Coherence across processes: the merchant edits an offer through the admin API of one app
// process, and the harness measures how long the other process (and the editing one) keep
// serving the old offer at checkout. The edit changes the offer's title, which the checkout's
// answer carries as the discount's message, so any offer kind will do.

// coherenceRound is one edit.
type coherenceRound struct {
	EditedOn   string  `json:"edited_on"`
	Title      string  `json:"title"`
	OtherMs    float64 `json:"other_ms"`   // from the edit's answer to the other process's first new answer
	EditingMs  float64 `json:"editing_ms"` // the same on the editing process
	OtherPolls int     `json:"other_polls"`
	// Of the other process's answers before the new one: the old title, and "no discount"
	// (an answer the app gave up on: its deadline).
	OtherStale      int    `json:"other_stale"`
	OtherNoDiscount int    `json:"other_no_discount"`
	Problem         string `json:"problem,omitempty"`
}

// installForAdmin gives the shop stored offline tokens (sealed with the development token
// key, holding no real token), so that the admin API accepts an ID token for it without
// asking the platform for a token exchange. The app then never calls the platform for this
// shop as long as its sync workers are off (the harness runs it with none).
func installForAdmin(ctx context.Context, st *store.Store, shop string) error {
	if _, err := st.GetTokens(ctx, shop); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	cipher, err := app.NewTokenCipher([]byte(app.DevTokenKey))
	if err != nil {
		return err
	}
	// "access_token" is the field name the app binds into the ciphertext (app/crypto.go).
	sealed, err := cipher.Seal(shop, "access_token", []byte("bench-no-platform-token"))
	if err != nil {
		return err
	}
	_, err = st.InstallShop(ctx, shop, store.Tokens{AccessCiphertext: sealed, Scopes: app.DefaultScopes})
	return err
}

// adminClient calls the admin API of one app process for one shop.
type adminClient struct {
	http *http.Client
	base string
	shop string
}

func (a adminClient) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	token, err := standin.MintIDToken([]byte(app.DevAppSecret), app.DevClientID, a.shop, time.Now())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	doc, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, clip(string(doc), 300))
	}
	if out != nil {
		return json.Unmarshal(doc, out)
	}
	return nil
}

// title is the offer's preview title, read through the admin API.
func (a adminClient) title(ctx context.Context, offerID string) (string, error) {
	var rec struct {
		Offer struct {
			Preview struct {
				Title string `json:"title"`
			} `json:"preview"`
		} `json:"offer"`
	}
	err := a.do(ctx, http.MethodGet, "/api/offers/"+offerID, nil, &rec)
	return rec.Offer.Preview.Title, err
}

// retitle sets the offer's title through the admin API and returns when the edit is stored.
func (a adminClient) retitle(ctx context.Context, offerID, title string) error {
	var rec struct {
		Version int64          `json:"version"`
		Offer   map[string]any `json:"offer"`
	}
	if err := a.do(ctx, http.MethodGet, "/api/offers/"+offerID, nil, &rec); err != nil {
		return err
	}
	preview, _ := rec.Offer["preview"].(map[string]any)
	if preview == nil {
		preview = map[string]any{}
	}
	preview["title"] = title
	rec.Offer["preview"] = preview
	return a.do(ctx, http.MethodPut, "/api/offers/"+offerID, map[string]any{"version": rec.Version, "offer": rec.Offer}, nil)
}

// measureCoherence edits the calling offer of body on each process in turn, rounds times, and
// measures how long until each process's checkout answer for body carries the new title. The
// offer gets its title back at the end.
func measureCoherence(ctx context.Context, client *http.Client, procs []*server, shop, token string, body []byte, offerID string, rounds int) (out []coherenceRound, err error) {
	first := adminClient{http: client, base: procs[0].url(), shop: shop}
	original, err := first.title(ctx, offerID)
	if err != nil {
		return nil, fmt.Errorf("read offer %s: %w", offerID, err)
	}
	defer func() {
		if e := first.retitle(context.WithoutCancel(ctx), offerID, original); e != nil {
			err = errors.Join(err, fmt.Errorf("give offer %s its title back: %w", offerID, e))
		}
	}()
	ask := func(s *server) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url()+"/checkout/cart-lines", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	// waitFor polls s until its answer holds title, at most 30 s, counting the answers
	// without it that are "no discount".
	waitFor := func(s *server, title string, since time.Time) (d time.Duration, polls, empty int, err error) {
		for polls = 1; ; polls++ {
			answer, err := ask(s)
			if err == nil && bytes.Contains(answer, []byte(title)) {
				return time.Since(since), polls, empty, nil
			}
			if string(answer) == emptyAnswer {
				empty++
			}
			if time.Since(since) > 30*time.Second {
				return 0, polls, empty, fmt.Errorf("%s still answers without %q after 30 s (last: %s, %v)", s.name, title, clip(string(answer), 200), err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for r := range rounds {
		editing, other := procs[r%len(procs)], procs[(r+1)%len(procs)]
		title := fmt.Sprintf("Bench edit %d at %d", r+1, time.Now().UnixNano())
		round := coherenceRound{EditedOn: editing.name, Title: title}
		admin := adminClient{http: client, base: editing.url(), shop: shop}
		if err := admin.retitle(ctx, offerID, title); err != nil {
			round.Problem = "edit: " + err.Error()
			out = append(out, round)
			continue
		}
		edited := time.Now()
		// Both processes are asked at once, each until it serves the new title.
		type seen struct {
			d     time.Duration
			polls int
			err   error
		}
		onEditing := make(chan seen, 1)
		go func() {
			d, polls, _, err := waitFor(editing, title, edited)
			onEditing <- seen{d, polls, err}
		}()
		d, polls, empty, err := waitFor(other, title, edited)
		round.OtherMs, round.OtherPolls = ms(d), polls
		round.OtherNoDiscount, round.OtherStale = empty, polls-1-empty
		if err != nil {
			round.Problem = err.Error()
		}
		if e := <-onEditing; e.err == nil {
			round.EditingMs = ms(e.d)
		} else if round.Problem == "" {
			round.Problem = e.err.Error()
		}
		out = append(out, round)
	}
	return out, nil
}
