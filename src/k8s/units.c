/* A manifest file cut into the parts that are decrypted as one sops
 * document: the whole file (JSON, or a multi-document YAML file that sops
 * encrypted as one, every document carrying the same metadata and MAC),
 * or each YAML document on its own. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "k8s_int.h"

static const char *sops_mac_text(const struct doc *d)
{
	if (!d->count)
		return NULL;
	return k8s_map_str(k8s_map_get(d->branches[0], SOPS_METADATA_KEY), "mac");
}

void k8s_units_release(struct k8s_unit *units, size_t count)
{
	for (size_t i = 0; units && i < count; i++)
		doc_release(&units[i].doc);
	free(units);
}

static int split(const uint8_t *text, size_t len, enum doc_format format, struct k8s_span **spans,
		 size_t *count)
{
	if (format != DOC_FORMAT_JSON)
		return k8s_stream_split((const char *)text, len, spans, count);
	*spans = gs_malloc(sizeof(**spans));
	if (!*spans)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	(*spans)[0].start = 0;
	(*spans)[0].end = len;
	*count = k8s_text_is_blank((const char *)text, len) ? 0 : 1;
	return 0;
}

/* Every document encrypted, all with one MAC: sops wrote the file as one. */
static bool one_sops_file(const struct k8s_unit *units, size_t count)
{
	const char *mac0 = NULL;

	if (count < 2)
		return false;
	for (size_t i = 0; i < count; i++) {
		const char *mac = units[i].encrypted ? sops_mac_text(&units[i].doc) : NULL;

		if (!mac || (mac0 && strcmp(mac, mac0)))
			return false;
		mac0 = mac;
	}
	return true;
}

int k8s_units_load(const uint8_t *text, size_t len, enum doc_format format,
		   struct k8s_unit **units_out, size_t *count_out, size_t *bad_doc)
{
	struct k8s_span *spans = NULL;
	struct k8s_unit *units = NULL;
	size_t count = 0, loaded = 0;
	int ret;

	*units_out = NULL;
	*count_out = 0;
	*bad_doc = 0;
	ret = split(text, len, format, &spans, &count);
	if (ret)
		return ret;
	units = gs_calloc(count ? count : 1, sizeof(*units));
	if (!units) {
		free(spans);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < count; i++) {
		units[i].span = spans[i];
		units[i].first_doc = i;
		doc_init(&units[i].doc, format);
		loaded++;
		ret = store_load(format, text + spans[i].start, spans[i].end - spans[i].start,
				 &units[i].doc);
		if (ret)
			*bad_doc = i + 1;
		else
			units[i].encrypted = sops_doc_is_encrypted(&units[i].doc);
	}
	if (!ret && one_sops_file(units, count)) {
		for (size_t i = 0; i < count; i++)
			doc_release(&units[i].doc);
		loaded = count = 1;
		units[0].span.start = 0;
		units[0].span.end = len;
		doc_init(&units[0].doc, format);
		ret = store_load(format, text, len, &units[0].doc);
		if (ret)
			*bad_doc = 1;
	}
	free(spans);
	if (ret) {
		k8s_units_release(units, loaded);
		return ret;
	}
	*units_out = units;
	*count_out = count;
	return 0;
}
