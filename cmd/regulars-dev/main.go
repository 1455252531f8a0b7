// Command regulars-dev runs the whole product on one machine for development: the local
// platform stand-in with its seeded demo shop, and the app on SQLite (or DATABASE_URL) next to
// it; it installs the app into the demo shop through OAuth, as a merchant would, and prints the
// URLs to open. `make run` runs it.
//
//	REGULARS_ADDR           the app's address (default 127.0.0.1:8080)
//	REGULARS_PLATFORM_ADDR  the stand-in's address (default 127.0.0.1:8081)
//
// Everything else is the app's and the stand-in's own configuration, with their development
// defaults (which pair with each other).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "regulars-dev:", err)
		os.Exit(1)
	}
}
