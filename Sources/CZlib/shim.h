#include <zlib.h>

// inflateInit2/deflateInit2 are function-like macros (they pass ZLIB_VERSION and sizeof(z_stream)),
// which Swift cannot call.
static inline int tern_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

static inline int tern_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
