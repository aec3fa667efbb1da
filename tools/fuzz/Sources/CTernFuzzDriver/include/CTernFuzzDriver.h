#pragma once
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (flags, corpus, mutation loop) over `test_one_input`; returns its exit
/// code. SwiftPM links an executable's own `main`, so the harness calls the driver instead of
/// using libFuzzer's `main`.
int tern_fuzz_run_driver(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));
