/* The JSON store's round trips (see store_roundtrip.h). */
#define FUZZ_FORMAT DOC_FORMAT_JSON
#include "store_roundtrip.h"
