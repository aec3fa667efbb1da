#include <zstd.h>
#include <zstd_errors.h>

// zstd.h spells these as macro expressions that Swift does not import.
static inline unsigned long long tern_zstd_contentsize_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long tern_zstd_contentsize_error(void) { return ZSTD_CONTENTSIZE_ERROR; }
