#ifndef CTERN_CRC32C_H
#define CTERN_CRC32C_H
#include <stddef.h>
#include <stdint.h>
#endif
