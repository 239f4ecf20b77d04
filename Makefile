# switchboard: the two commands of README.md.
#   make run   install what is missing, build, run the stack on the sample corpus
#   make test  install what is missing, build (gcc, and clang with ASan+UBSan), run every test
# Other targets: deps, build, build-asan, test-unit, fuzz, bench, bench-report, clean.

SHELL := /bin/bash

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
PACKAGES   := $(shell grep -v '^\#' deps/debian-packages.txt)

.PHONY: all deps build build-asan test test-unit run fuzz fuzz-run bench bench-report clean

all: build

# Installs the Debian packages of deps/debian-packages.txt that are missing (as root).
deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root (or: sudo make deps)"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# clang, ASan+UBSan, and the libFuzzer targets (built with the same sanitizers)
build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON -DSB_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# Every test on the gcc build, then every test again under ASan+UBSan (clang),
# then each fuzz target for a few seconds over its seeds.
test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)
	$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j$(JOBS)

run: build
	./$(BUILD)/sbctl up --replay corpus/sample.jsonl --tenants corpus/tenants.json

# Each fuzz target for FUZZ_SECONDS; new inputs go to the build tree, the
# committed seeds in tests/fuzz/corpus/<name>/ are only read.
fuzz: build-asan
	$(MAKE) --no-print-directory fuzz-run

fuzz-run:
	@for f in $(ASAN_BUILD)/fuzz_*; do \
	  n=$$(basename $$f); seeds=tests/fuzz/corpus/$${n#fuzz_}; work=$(ASAN_BUILD)/fuzz-corpus/$$n; \
	  mkdir -p $$seeds $$work; echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  log=$(ASAN_BUILD)/fuzz-$$n.log; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(ASAN_BUILD)/ \
	    $$work $$seeds >$$log 2>&1; rc=$$?; \
	  grep -E "^(stat::number_of_executed_units|stat::peak_rss|#.*DONE)|ERROR|SUMMARY" $$log; \
	  if [ $$rc -ne 0 ]; then echo "-- $$n failed (exit $$rc); the end of $$log:"; tail -n 60 $$log; \
	    for a in $(ASAN_BUILD)/crash-* $(ASAN_BUILD)/leak-* $(ASAN_BUILD)/timeout-* $(ASAN_BUILD)/oom-*; do \
	      [ -f $$a ] && { echo "-- $$a (base64):"; base64 $$a | head -c 4000; echo; }; done; exit 1; fi; \
	done

# The whole benchmark (bench/run.sh, see bench/README.md): sbctl bench x3
# (medians), open-loop steps, a x10 burst for 60 s, the Redis ceiling, the
# peers when BullMQ's node_modules are installed; JSON, report.html and
# index.json in bench/results/<date>/. About 10-15 minutes with the defaults.
BENCH_RUNS ?= 3
BENCH_EVENTS ?= 100000
BENCH_RATES ?= 2000,4000,8000,12000
BENCH_STEP_SECONDS ?= 10
BENCH_BURST_RATE ?= 500
BENCH_BURST_MULT ?= 10
BENCH_BURST_SECONDS ?= 60
BENCH_BURST_PAD_SECONDS ?= 15
BENCH_CEILING ?= 1
BENCH_PEERS ?= 1
BENCH_ENV = BENCH_RATES=$(BENCH_RATES) BENCH_STEP_SECONDS=$(BENCH_STEP_SECONDS) \
  BENCH_BURST_RATE=$(BENCH_BURST_RATE) BENCH_BURST_MULT=$(BENCH_BURST_MULT) \
  BENCH_BURST_SECONDS=$(BENCH_BURST_SECONDS) BENCH_BURST_PAD_SECONDS=$(BENCH_BURST_PAD_SECONDS) \
  BENCH_CEILING=$(BENCH_CEILING) BENCH_PEERS=$(BENCH_PEERS)
bench: build
	$(BENCH_ENV) bench/run.sh ./$(BUILD)/sbctl $(BENCH_RUNS) $(BENCH_EVENTS)

# Open-loop steps only (no closed loop, burst or peers), the ceiling and the report.
bench-report: build
	$(BENCH_ENV) BENCH_BURST_SECONDS=0 BENCH_PEERS=0 bench/run.sh ./$(BUILD)/sbctl 0

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
