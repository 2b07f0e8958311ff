# Makefile - thin wrapper for people: deps, build, demo, test, bench. CMake does the real work.
CMAKE ?= cmake
CTEST ?= ctest
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build build-sanitize demo test test-default test-sanitize bench fuzz clean

all: build

deps:
	@tools/deps.sh

build: deps
	$(CMAKE) --preset default >/dev/null
	$(CMAKE) --build --preset default -j $(JOBS)

build-sanitize: deps
	$(CMAKE) --preset sanitize >/dev/null
	$(CMAKE) --build --preset sanitize -j $(JOBS)

demo: build
	@tools/demo.sh build/default

# Every test, then every test again under AddressSanitizer + UndefinedBehaviorSanitizer, but
# e2e_lesson_times (the lessons' timing tables: plain lesson programs under perf, no sanitized
# code that other tests do not run; CMakePresets.json's sanitize filter).
test: test-default test-sanitize

test-default: build
	$(CTEST) --preset default

test-sanitize: build-sanitize
	$(CTEST) --preset sanitize

bench: build
	@tools/deps.sh --bench
	@bench/run.sh build/default

# Fuzz the capture readers with afl++ for FUZZ_SECONDS (tools/fuzz.sh; not part of `make test`).
FUZZ_SECONDS ?= 300
fuzz:
	@tools/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build
