# Kalcifer — run `make help` for the targets.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 60s
# Go spends up to 60 s minimizing each new input by default; on the document
# readers (a few KiB per seed, milliseconds per read) that left 18,661 execs
# in 10 minutes, against 263,913 with 5 s.
FUZZMINIMIZETIME ?= 5s

.PHONY: help run build test test-short test-web vet fuzz bench lint clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## run the server on :4000 with SQLite under ./data
	$(GO) run ./cmd/kalcifer serve

build: ## build a static binary into bin/kalcifer
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kalcifer ./cmd/kalcifer

test: ## vet, every Go test on SQLite and PostgreSQL (starts a private PostgreSQL), then test-web
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...
	$(MAKE) test-web

test-web: ## the web app: npm ci, type check and stale check of the committed build, Vitest, end-to-end in Chromium
	cd web && npm ci --no-audit --no-fund && npm run check && npm test && npm run e2e

test-short: ## the tests on SQLite only (PostgreSQL ones skip with -short)
	$(GO) test -count=1 -short ./...

# Every fuzz target as package:Target. `go test ./...` (make test) runs each
# over its seed corpus; make fuzz fuzzes each for FUZZTIME, one at a time.
FUZZ_TARGETS := ./graph:FuzzParseValidate ./engine:FuzzExpression ./designer/document:FuzzRead ./api:FuzzDecode ./segment:FuzzParse

fuzz: ## fuzz every target (graph, CEL expressions, documents, API decoder, segment rules) for FUZZTIME each (default 60s)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME); \
	done

bench: ## Go micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## gofmt and vet
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo 'run gofmt -w on the files above' && exit 1)
	$(GO) vet ./...

clean: ## remove build output and the local SQLite data
	rm -rf bin data
