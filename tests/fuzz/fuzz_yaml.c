/* The YAML store's round trips (see store_roundtrip.h). */
#define FUZZ_FORMAT DOC_FORMAT_YAML
#include "store_roundtrip.h"
