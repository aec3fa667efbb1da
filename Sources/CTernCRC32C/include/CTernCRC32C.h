#ifndef CTERN_CRC32C_H
#define CTERN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF),
// the checksum of Kafka v2 record batches.
//
// `crc` is the CRC-32C of the bytes that came before (0 for none), so
// tern_crc32c_update(tern_crc32c_update(0, a, n), b, m) is the CRC-32C of a followed by b.
// All functions are thread-safe; the lookup tables are built once, on first use.

/// Extends `crc` over `length` bytes at `data`, with the CPU's crc32 instruction when it has one
/// (x86-64 SSE4.2, ARMv8 CRC), else the table code. `data` may be NULL when `length` is 0.
uint32_t tern_crc32c_update(uint32_t crc, const void *data, size_t length);

/// Same result as tern_crc32c_update, always computed by the portable slicing-by-8 table code, so
/// tests can compare the two paths and benchmarks can measure both.
uint32_t tern_crc32c_update_software(uint32_t crc, const void *data, size_t length);

/// 1 when tern_crc32c_update uses a CPU crc32 instruction on this machine, 0 when it uses tables.
int tern_crc32c_is_hardware_accelerated(void);

#endif
