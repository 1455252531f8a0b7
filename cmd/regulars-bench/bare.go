package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/regularsapp/regulars/discountfn"
)

// The bare server is the ceiling the checkout endpoint is measured against: a handler that
// does only what any handler of the same request must do, with the app's server settings.
// It decodes the function input into discountfn.Input the way the checkout handler does
// (encoding/json, the same envelope) and encodes the answer the checkout gave for that cart
// (a discountfn.RunResult, so the same bytes), and nothing else: no token, no offers, no
// facts, no engine.
//
// It runs on fasthttp, the HTTP engine under Fiber, configured as the app configures Fiber:
// the project lets only package app import Fiber (internal/arch), and Fiber adds its router
// and context on top, so this ceiling is a little higher than a bare Fiber handler's, never
// lower. It runs in its own process (regulars-bench serve-bare), pinned like the app.

// bareEnvelope decodes the input as the checkout handler's inputEnvelope does.
type bareEnvelope struct {
	*discountfn.Input
	Cart *discountfn.Cart `json:"cart"`
}

// bareHandler answers one request.
func bareHandler(answers []discountfn.RunResult) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		var in discountfn.Input
		env := bareEnvelope{Input: &in}
		if err := json.NewDecoder(bytes.NewReader(ctx.PostBody())).Decode(&env); err != nil || env.Cart == nil {
			ctx.Error(`{"error":"bad input"}`, fasthttp.StatusBadRequest)
			return
		}
		in.Cart = *env.Cart
		i, err := strconv.Atoi(string(ctx.Request.Header.Peek(answerHeader)))
		if err != nil || i < 0 || i >= len(answers) {
			ctx.Error(`{"error":"no such answer"}`, fasthttp.StatusBadRequest)
			return
		}
		out, err := json.Marshal(&answers[i])
		if err != nil {
			ctx.Error(`{"error":"encode"}`, fasthttp.StatusInternalServerError)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(out)
	}
}

// serveBare is `regulars-bench serve-bare ADDR ANSWERS`: it serves the answers in the JSON
// file ANSWERS (an array of run results) on ADDR until SIGINT or SIGTERM, and prints
// {"msg":"listening","addr":...} on stdout once it listens, as the app does.
func serveBare(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: regulars-bench serve-bare ADDR ANSWERS.json")
	}
	doc, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	var answers []discountfn.RunResult
	if err := json.Unmarshal(doc, &answers); err != nil {
		return fmt.Errorf("answers: %w", err)
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{
		Handler:               bareHandler(answers),
		MaxRequestBodySize:    4 << 20, // the app's default REGULARS_MAX_BODY_BYTES
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           2 * time.Minute,
		NoDefaultServerHeader: true,
		Logger:                discardLogger{},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, `{"msg":"listening","addr":%q}`+"\n", ln.Addr().String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	return srv.Shutdown()
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
