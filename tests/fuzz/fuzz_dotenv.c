/* The dotenv store's round trips (see store_roundtrip.h). */
#define FUZZ_FORMAT DOC_FORMAT_DOTENV
#include "store_roundtrip.h"
