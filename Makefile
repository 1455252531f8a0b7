# Everyday commands. CI runs `make test` (.ci/run).

# Use the Go toolchain on PATH, or the one in its usual install place if PATH has none.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := $(PATH):/usr/local/go/bin
endif

.PHONY: run test lint bench fuzz generate web

# The whole product on this machine: the platform stand-in with its demo shop and the app on
# SQLite, installed into the shop; prints the URLs to open (cmd/regulars-dev).
run:
	go run ./cmd/regulars-dev

# Everything CI checks: lint, go test -race against SQLite and a throwaway PostgreSQL
# database, timing budgets, and the function extension's node tests. See scripts/test.
test:
	scripts/test

# gofmt -l must list nothing; go vet must pass.
lint:
	scripts/lint

# Benchmarks, on SQLite and a throwaway PostgreSQL database.
bench:
	scripts/ensure-postgres
	scripts/with-test-db go test -run='^$$' -bench=. -benchmem ./...

# Fuzz the discount engine for a minute.
fuzz:
	go test -run=^$$ -fuzz=FuzzEvaluate -fuzztime=60s ./discountfn

# Regenerate generated code: the Admin API client graphql/generated.go, from
# graphql/operations/*.graphql and the pinned schema, with the genqlient version pinned in go.mod
# (graphql/tools.go). Commit the result: `make test` fails when it is stale (scripts/check-generated).
generate:
	go generate ./...

# Rebuild the admin UI into web/dist, which the binary embeds; commit the result (`make test`
# fails when web/dist is not what the sources build). Installs its npm dependencies if needed.
web:
	web/scripts/ensure-deps
	cd web && npm run build
