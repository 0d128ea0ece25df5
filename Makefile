# Development targets. CI runs README's test command through .ci/run; these
# are the longer checks run by hand or on a schedule.

FUZZTIME ?= 30s

.PHONY: test fuzz bench generate eval reliability

test:
	go test ./...

# Every native fuzz target, FUZZTIME each (e.g. make fuzz FUZZTIME=5m).
fuzz:
	@set -e; for pkg in $$(go list ./...); do \
		for t in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; \
			go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg; \
		done; \
	done

bench:
	go test -run '^$$' -bench . -benchmem ./shared/... ./hub/eval ./wasm

# Rebuild generated artifacts: the Wasm ranker and the bundled demo shop.
generate:
	go generate ./wasm ./web

eval:
	go run ./cmd/aisle eval recs -sequences ../shared/data/amazon_beauty_p5/user_sequence.txt \
		-titles ../shared/data/amazon_beauty_p5/items_asin_title.tsv -split test
	go run ./cmd/aisle eval recs -diginetica ../shared/data/diginetica_sample/sample_train-item-views.csv

# README's reliability figures: seven faults against the Worker in workerd
# (the hub down 60 s, slow, answering garbage; a truncated, an older and a
# KV-missing snapshot), then a 10-minute soak at 200 req/s through a local
# edge with two hub restarts, under the race detector. Needs `npm ci`
# (workerd); about 16 minutes. Exits non-zero on a missed target.
reliability:
	go run -race ./cmd/aisle bench reliability -soak 10m -rate 200
