#!/usr/bin/env bash
# libbreakwatch as an engine would use it: installed with `cmake --install` into a prefix,
# found with pkg-config, linked shared and static from C and from C++, and correct.
source "$(dirname "$0")/lib.sh"
: "${BUILDDIR:?}"

cmake --install "$BUILDDIR" --prefix "$WORK/prefix" >/dev/null
export PKG_CONFIG_PATH="$WORK/prefix/lib/pkgconfig:$WORK/prefix/lib/x86_64-linux-gnu/pkgconfig"
pkg-config --exists breakwatch || fail "breakwatch.pc not installed"
[ "$(pkg-config --modversion breakwatch)" = "$("$BREAKWATCH" --version | awk '{print $2}')" ] ||
  fail "pkg-config version differs from the binary's"
libdir=$(pkg-config --variable=libdir breakwatch)
# A sanitizer build's library needs its programs built the same way.
san=()
[ "${BW_SANITIZE:-OFF}" = ON ] && san=(-fsanitize=address,undefined)

check_page() {
  local out=$1
  grep -qx 'fills_total{symbol="BTCUSDT"} 100000' "$out" || fail "$out: BTCUSDT count"
  grep -qx 'fills_total{symbol="XRPUSDT"} 100000' "$out" || fail "$out: XRPUSDT count"
  grep -qx 'fill_latency_seconds_count 400000' "$out" || fail "$out: histogram count"
  grep -qx 'fill_latency_seconds_bucket{le="+Inf"} 400000' "$out" || fail "$out: +Inf bucket"
  grep -qx 'equity 10000.5' "$out" || fail "$out: gauge"
  out2=$(promtool check metrics <"$out" 2>&1) || fail "promtool: $out2"
}

# C, shared library.
cc "${san[@]}" -std=c11 -Wall -Werror "$SRCDIR/examples/minimal_engine.c" $(pkg-config --cflags --libs breakwatch) \
  -lpthread -o "$WORK/example_shared"
LD_LIBRARY_PATH="$libdir" "$WORK/example_shared" >"$WORK/shared.txt"
check_page "$WORK/shared.txt"
pass "C, shared library"

# C, static library.
cc "${san[@]}" -std=c11 -Wall -Werror "$SRCDIR/examples/minimal_engine.c" $(pkg-config --cflags breakwatch) \
  "$libdir/libbreakwatch.a" $(pkg-config --libs-only-l --static breakwatch | sed 's/-lbreakwatch//') \
  -lpthread -o "$WORK/example_static"
"$WORK/example_static" >"$WORK/static.txt"
check_page "$WORK/static.txt"
pass "C, static library"

# C++: the header is usable from C++ (extern "C", no C-only constructs).
cat >"$WORK/engine.cpp" <<'CPP'
#include <breakwatch/metrics.h>
#include <cstdio>
#include <cstdlib>
int main()
{
    bw_registry *reg = bw_registry_new(0);
    bw_counter *c = nullptr;
    if (bw_counter_new(reg, "cxx_events_total", "Events seen from C++.", &c) != BW_OK)
        return 1;
    for (int i = 0; i < 42; i++)
        bw_counter_inc(c);
    std::printf("%g\n", bw_counter_value(c));
    bw_registry_free(reg);
    return 0;
}
CPP
c++ "${san[@]}" -Wall -Werror "$WORK/engine.cpp" $(pkg-config --cflags --libs breakwatch) -o "$WORK/example_cxx"
[ "$(LD_LIBRARY_PATH="$libdir" "$WORK/example_cxx")" = 42 ] || fail "C++ program"
pass "C++"
