/* The INI store's round trips (see store_roundtrip.h). */
#define FUZZ_FORMAT DOC_FORMAT_INI
#define FUZZ_WRITE_BACK_REQUIRED
#include "store_roundtrip.h"
