// CRC-32C for Kafka record batches.
//
// Hardware path: the crc32 instruction has a latency of about three cycles but can start one per
// cycle, so a single dependency chain uses a third of the unit. Large inputs are therefore cut
// into three adjacent blocks whose CRCs are computed in one loop, then joined:
// crc(A ‖ B) = shift_|B|(crc(A)) ^ crc_from_zero(B), where shift_n is the (linear) effect of n zero
// bytes on the CRC register. shift_n is a 32×32 bit matrix, applied as four byte-indexed tables
// precomputed for the two block sizes used.
//
// Software path: slicing-by-8 (eight 256-entry tables, eight bytes per step).

#include "CTernCRC32C.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <nmmintrin.h>
#define TERN_CRC32C_HAVE_HARDWARE_PATH 1
#define TERN_CRC32C_HW_TARGET __attribute__((target("sse4.2")))
#define TERN_CRC32C_HW_U64(crc, word) ((uint32_t)_mm_crc32_u64((crc), (word)))
#define TERN_CRC32C_HW_U8(crc, byte) _mm_crc32_u8((crc), (byte))
#elif defined(__aarch64__) && (defined(__clang__) || defined(__GNUC__))
#include <arm_acle.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)  // Linux arm64 uapi <asm/hwcap.h>
#endif
#endif
#define TERN_CRC32C_HAVE_HARDWARE_PATH 1
#define TERN_CRC32C_HW_TARGET __attribute__((target("crc")))
#define TERN_CRC32C_HW_U64(crc, word) __crc32cd((crc), (word))
#define TERN_CRC32C_HW_U8(crc, byte) __crc32cb((crc), (byte))
#endif

#define TERN_CRC32C_POLYNOMIAL 0x82F63B78u

// Block sizes of the three-way interleave. A long round covers 24 KiB; the short round handles
// the rest of inputs down to 768 bytes, where joining costs 8 lookups per 768 bytes.
#define TERN_CRC32C_LONG_BLOCK_BYTES 8192
#define TERN_CRC32C_SHORT_BLOCK_BYTES 256

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

// slice_tables[k][b]: CRC register after byte b followed by k zero bytes (from a zero register).
static uint32_t slice_tables[8][256];

#if TERN_CRC32C_HAVE_HARDWARE_PATH
// *_shift_tables[k][b]: effect of appending one block of zero bytes on a register whose byte k is b.
static uint32_t long_shift_tables[4][256];
static uint32_t short_shift_tables[4][256];
static int use_hardware;

static inline uint32_t shift_register(const uint32_t tables[4][256], uint32_t crc) {
    return tables[0][crc & 0xff] ^ tables[1][(crc >> 8) & 0xff] ^ tables[2][(crc >> 16) & 0xff]
        ^ tables[3][crc >> 24];
}

// Expands a linear map given by the images of the 32 single-bit registers into byte tables.
static void fill_shift_tables(uint32_t tables[4][256], const uint32_t columns[32]) {
    for (int k = 0; k < 4; k++) {
        for (int byte = 0; byte < 256; byte++) {
            uint32_t image = 0;
            for (int bit = 0; bit < 8; bit++) {
                if (byte & (1 << bit)) {
                    image ^= columns[8 * k + bit];
                }
            }
            tables[k][byte] = image;
        }
    }
}

static void build_shift_tables(void) {
    uint32_t columns[32];
    for (int bit = 0; bit < 32; bit++) {
        uint32_t crc = 1u << bit;
        for (int i = 0; i < TERN_CRC32C_SHORT_BLOCK_BYTES; i++) {
            crc = (crc >> 8) ^ slice_tables[0][crc & 0xff];
        }
        columns[bit] = crc;
    }
    fill_shift_tables(short_shift_tables, columns);

    // A long block is a whole number of short blocks: compose the short shift instead of feeding
    // 8192 zero bytes per column.
    for (int bit = 0; bit < 32; bit++) {
        uint32_t crc = 1u << bit;
        for (int i = 0; i < TERN_CRC32C_LONG_BLOCK_BYTES / TERN_CRC32C_SHORT_BLOCK_BYTES; i++) {
            crc = shift_register((const uint32_t(*)[256])short_shift_tables, crc);
        }
        columns[bit] = crc;
    }
    fill_shift_tables(long_shift_tables, columns);
}

static int cpu_has_crc32c_instruction(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
#elif defined(__APPLE__)
    return 1;  // every arm64 Apple CPU implements the ARMv8 CRC extension
#elif defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0 ? 1 : 0;
#else
    return 0;
#endif
}
#endif

static void build_tables(void) {
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ ((crc & 1) ? TERN_CRC32C_POLYNOMIAL : 0);
        }
        slice_tables[0][byte] = crc;
    }
    for (int k = 1; k < 8; k++) {
        for (int byte = 0; byte < 256; byte++) {
            uint32_t previous = slice_tables[k - 1][byte];
            slice_tables[k][byte] = (previous >> 8) ^ slice_tables[0][previous & 0xff];
        }
    }
#if TERN_CRC32C_HAVE_HARDWARE_PATH
    build_shift_tables();
    use_hardware = cpu_has_crc32c_instruction();
#endif
}

static uint32_t crc32c_software(uint32_t crc, const unsigned char *bytes, size_t length) {
    uint32_t reg = ~crc;
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        reg = (reg >> 8) ^ slice_tables[0][(reg ^ *bytes) & 0xff];
        bytes++;
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, sizeof word);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        word = __builtin_bswap64(word);
#endif
        word ^= reg;
        reg = slice_tables[7][word & 0xff] ^ slice_tables[6][(word >> 8) & 0xff]
            ^ slice_tables[5][(word >> 16) & 0xff] ^ slice_tables[4][(word >> 24) & 0xff]
            ^ slice_tables[3][(word >> 32) & 0xff] ^ slice_tables[2][(word >> 40) & 0xff]
            ^ slice_tables[1][(word >> 48) & 0xff] ^ slice_tables[0][word >> 56];
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        reg = (reg >> 8) ^ slice_tables[0][(reg ^ *bytes) & 0xff];
        bytes++;
        length--;
    }
    return ~reg;
}

#if TERN_CRC32C_HAVE_HARDWARE_PATH
static inline uint64_t load_u64(const unsigned char *bytes) {
    uint64_t word;
    memcpy(&word, bytes, sizeof word);
    return word;
}

// Runs rounds of three interleaved blocks of `block_bytes` while at least one round remains.
#define TERN_CRC32C_INTERLEAVED_ROUNDS(block_bytes, tables)                              \
    while (length >= 3 * (size_t)(block_bytes)) {                                      \
        uint32_t reg1 = 0;                                                             \
        uint32_t reg2 = 0;                                                             \
        const unsigned char *block_end = bytes + (block_bytes);                        \
        do {                                                                           \
            reg0 = TERN_CRC32C_HW_U64(reg0, load_u64(bytes));                          \
            reg1 = TERN_CRC32C_HW_U64(reg1, load_u64(bytes + (block_bytes)));          \
            reg2 = TERN_CRC32C_HW_U64(reg2, load_u64(bytes + 2 * (block_bytes)));      \
            bytes += 8;                                                                \
        } while (bytes < block_end);                                                   \
        reg0 = shift_register((const uint32_t(*)[256])(tables), reg0) ^ reg1;          \
        reg0 = shift_register((const uint32_t(*)[256])(tables), reg0) ^ reg2;          \
        bytes += 2 * (size_t)(block_bytes);                                            \
        length -= 3 * (size_t)(block_bytes);                                           \
    }

TERN_CRC32C_HW_TARGET
static uint32_t crc32c_hardware(uint32_t crc, const unsigned char *bytes, size_t length) {
    uint32_t reg0 = ~crc;
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        reg0 = TERN_CRC32C_HW_U8(reg0, *bytes);
        bytes++;
        length--;
    }
    TERN_CRC32C_INTERLEAVED_ROUNDS(TERN_CRC32C_LONG_BLOCK_BYTES, long_shift_tables)
    TERN_CRC32C_INTERLEAVED_ROUNDS(TERN_CRC32C_SHORT_BLOCK_BYTES, short_shift_tables)
    while (length >= 8) {
        reg0 = TERN_CRC32C_HW_U64(reg0, load_u64(bytes));
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        reg0 = TERN_CRC32C_HW_U8(reg0, *bytes);
        bytes++;
        length--;
    }
    return ~reg0;
}
#endif

uint32_t tern_crc32c_update(uint32_t crc, const void *data, size_t length) {
    if (length == 0) {
        return crc;
    }
    pthread_once(&tables_once, build_tables);
#if TERN_CRC32C_HAVE_HARDWARE_PATH
    if (use_hardware) {
        return crc32c_hardware(crc, (const unsigned char *)data, length);
    }
#endif
    return crc32c_software(crc, (const unsigned char *)data, length);
}

uint32_t tern_crc32c_update_software(uint32_t crc, const void *data, size_t length) {
    if (length == 0) {
        return crc;
    }
    pthread_once(&tables_once, build_tables);
    return crc32c_software(crc, (const unsigned char *)data, length);
}

int tern_crc32c_is_hardware_accelerated(void) {
#if TERN_CRC32C_HAVE_HARDWARE_PATH
    pthread_once(&tables_once, build_tables);
    return use_hardware;
#else
    return 0;
#endif
}
