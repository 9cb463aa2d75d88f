# breakwatch — the two commands a user needs are `make run` and `make test`.
BUILD      ?= build
BUILD_SAN  ?= build-sanitize
BUILD_VG   ?= build-valgrind
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
LISTEN     ?= 127.0.0.1:8000
DATA_DIR   ?= data
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local
CMAKE_ARGS ?=

.PHONY: all deps build run test test-plain test-sanitize test-clang test-valgrind bench install clean format fuzz

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
# build, then the unit tests under Valgrind memcheck, then every fuzz target for FUZZ_SECONDS.
test: deps test-plain test-sanitize test-clang test-valgrind fuzz

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

# Each unit test run by valgrind (CMake's CROSSCOMPILING_EMULATOR prefixes every test target's
# command), so an invalid access, a definite or indirect leak fails that test with exit code 1
# and --output-on-failure prints valgrind's report under the test's name. BW_VALGRIND tells
# timing-bound tests that the run is slow. --fair-sched=yes hands valgrind's one lock to threads
# in turn: without it a thread back from a system call (the tsdb writer committing to SQLite)
# can wait minutes behind threads that never make one (readers in test_tsdb_persist).
VALGRIND = valgrind;--tool=memcheck;--fair-sched=yes;--error-exitcode=1;--leak-check=full;--errors-for-leak-kinds=definite,indirect;--track-origins=no
test-valgrind: deps
	cmake -S . -B $(BUILD_VG) -DBW_WEB=OFF -DCMAKE_BUILD_TYPE=Debug -DBW_SANITIZE=OFF \
	  '-DCMAKE_CROSSCOMPILING_EMULATOR=$(VALGRIND)' $(CMAKE_ARGS)
	cmake --build $(BUILD_VG) -j $(JOBS)
	cd $(BUILD_VG) && BW_VALGRIND=1 ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	bench/run.sh $(BUILD)

# libFuzzer targets (tests/fuzz/): a clang build with coverage, ASan and UBSan; every seed and
# regression input once (ctest -L fuzz), then each target for FUZZ_SECONDS on a copy of its
# seed corpus, two at a time; fails on any crash or leak.
fuzz: deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DBW_FUZZ=ON -DBW_WEB=OFF $(CMAKE_ARGS)
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_all
	cd $(BUILD_FUZZ) && ctest --output-on-failure -j $(JOBS) -L fuzz
	tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-clang $(BUILD_VG)
