# breakwatch — the two commands a user needs are `make run` and `make test`.
BUILD      ?= build
BUILD_SAN  ?= build-sanitize
LISTEN     ?= 127.0.0.1:8000
DATA_DIR   ?= data
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local
CMAKE_ARGS ?=

.PHONY: all deps build run test test-plain test-sanitize test-clang bench install clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/breakwatch run --listen $(LISTEN) --data-dir $(DATA_DIR) \
	  --rule-files monitoring/rules/breakwatch.rules.yml --dashboards-dir monitoring/grafana/dashboards

# Every test: the plain build (C unit and integration tests, the browser tests, the web page's
# Vitest tests), then the C suite again under ASan + UBSan, then the unit tests of a clang
# build.
test: deps test-plain test-sanitize test-clang

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-sanitize: deps
	cmake -S . -B $(BUILD_SAN) -DBW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(BUILD_SAN) -j $(JOBS)
	cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) -LE web

test-clang: deps
	CC=clang cmake -S . -B build-clang $(CMAKE_ARGS)
	cmake --build build-clang -j $(JOBS)
	cd build-clang && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-clang
