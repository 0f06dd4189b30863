/* The KRM function's inputs: a ResourceList (functionConfig parsing, the
 * KSOPS generator), the manifest stream splitter and the dotenv reader.
 * No identities are loaded, so decryption always fails cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/k8s/k8s_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct age_identity_list ids = { 0 };
	struct k8s_failures fails = { 0 };
	struct k8s_span *spans = NULL;
	struct gs_buf out;
	struct doc d;
	size_t count = 0;

	if (!ready) {
		if (gs_crypto_init() != 0)
			abort();
		ready = 1;
	}
	if (k8s_stream_split((const char *)data, size, &spans, &count) == 0) {
		for (size_t i = 0; i < count; i++) {
			if (spans[i].start > spans[i].end || spans[i].end > size)
				abort();
		}
		free(spans);
	}
	doc_init(&d, DOC_FORMAT_DOTENV);
	struct doc_node *m = doc_new_map(&d);

	if (m)
		(void)k8s_dotenv_parse(&d, m, (const char *)data, size);
	doc_release(&d);

	gs_buf_init(&out, true);
	(void)k8s_krm_run(data, size, "/nonexistent-fuzz-dir", NULL, &ids, &out, &fails);
	k8s_failures_release(&fails);
	gs_buf_release(&out);
	return 0;
}
