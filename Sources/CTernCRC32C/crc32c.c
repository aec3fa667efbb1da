#include "CTernCRC32C.h"
