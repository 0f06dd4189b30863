/* The cluster side's inputs: a ResourceList (functionConfig parsing, the
 * KSOPS generator), the manifest stream splitter and unit loader, the
 * dotenv reader, a kustomization.yaml walked beneath a small root (and its
 * inline configs), the verified emitter on whatever loads, and the output
 * stream joined from proven pieces read back whole. No identities are loaded, so
 * decryption always fails cleanly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/store.h"
#include "../../src/k8s/k8s_int.h"

static char root_dir[] = "/tmp/fuzz_krm.XXXXXX";
static char kfile[sizeof(root_dir) + 32];

/* A root with a base, a resource and a generator source to point at. */
static void make_root(void)
{
	static const char *const files[][2] = {
		{ "base/kustomization.yaml", "resources: [cm.yaml]\n" },
		{ "base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" },
		{ "app.env", "A=1\n" },
		{ "gen.yaml", "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: g}\nfiles: [base/cm.yaml]\n" },
	};
	char p[256];

	if (!mkdtemp(root_dir))
		abort();
	snprintf(p, sizeof(p), "%s/base", root_dir);
	mkdir(p, 0700);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", root_dir, files[i][0]);
		f = fopen(p, "w");
		if (!f)
			abort();
		fputs(files[i][1], f);
		fclose(f);
	}
	snprintf(kfile, sizeof(kfile), "%s/kustomization.yaml", root_dir);
}

static void walk(const uint8_t *data, size_t size)
{
	struct k8s_root root;
	struct k8s_walk w;
	char *app = NULL;
	FILE *f = fopen(kfile, "w");

	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if (k8s_root_open_for(root_dir, root_dir, &root, &app))
		abort();
	(void)k8s_walk(&root, app, &w);
	for (size_t i = 0; i < w.count; i++) {
		if (w.files[i].rel[0] == '/' || strstr(w.files[i].rel, ".."))
			abort(); /* every recorded path is clean and relative */
	}
	for (size_t i = 0; i < w.inline_count; i++) {
		struct doc d;

		if (!strchr(w.inlines[i].text, '\n'))
			abort(); /* only a string with a line break is a config */
		doc_init(&d, DOC_FORMAT_YAML);
		(void)store_load(DOC_FORMAT_YAML, (const uint8_t *)w.inlines[i].text,
				 strlen(w.inlines[i].text), &d);
		doc_release(&d);
	}
	k8s_walk_release(&w);
	k8s_root_release(&root);
	free(app);
}

/* The manifest stream render writes: each unit through the pipeline's
 * proven emitter, joined. Read back whole, it must hold exactly the
 * documents appended, equal to the trees (no document merged or split at
 * a join). */
static void stream(struct k8s_unit *u, size_t count)
{
	struct doc_node **want = calloc(K8S_MAX_DOCS, sizeof(*want));
	struct doc all = { .format = DOC_FORMAT_YAML }, back;
	struct gs_buf out;
	size_t docs = 0;

	if (!want)
		abort();
	all.branches = want;
	gs_buf_init(&out, true);
	for (size_t i = 0; i < count; i++) {
		size_t before = docs;

		if (u[i].encrypted || !u[i].doc.count)
			continue;
		if (k8s_stream_append_plain(&out, &docs, &u[i].doc))
			goto out; /* refused: nothing is written, nothing to compare */
		if (docs - before != u[i].doc.count)
			abort();
		for (size_t b = 0; b < u[i].doc.count; b++)
			want[all.count++] = u[i].doc.branches[b];
	}
	doc_init(&back, DOC_FORMAT_YAML);
	if (store_load(DOC_FORMAT_YAML, out.data, out.len, &back) || back.count != docs ||
	    !doc_equal(&all, &back, NULL, 0))
		abort();
	doc_release(&back);
out:
	gs_buf_release(&out);
	free(want);
}

static void units(const uint8_t *data, size_t size)
{
	struct k8s_unit *u = NULL;
	size_t count = 0, bad = 0;

	if (k8s_units_load(data, size, DOC_FORMAT_YAML, &u, &count, &bad))
		return;
	for (size_t i = 0; i < count; i++) {
		for (size_t b = 0; b < u[i].doc.count; b++) {
			struct gs_buf out;

			(void)k8s_check_no_ciphertext(u[i].doc.branches[b]);
			(void)k8s_check_no_encoded_ciphertext(u[i].doc.branches[b]);
			gs_buf_init(&out, true);
			(void)k8s_yaml_emit_verified(u[i].doc.branches[b], &out);
			gs_buf_release(&out);
		}
	}
	stream(u, count);
	k8s_units_release(u, count);
}

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
		make_root();
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

	units(data, size);
	walk(data, size);

	gs_buf_init(&out, true);
	(void)k8s_krm_run(data, size, root_dir, root_dir, &ids, &out, &fails);
	k8s_failures_release(&fails);
	gs_buf_release(&out);
	return 0;
}
