#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/io.h"
#include "gitseal/store.h"
#include "k8s_int.h"

static struct doc_node *str_node(struct doc *d, const char *s)
{
	return doc_new_scalar(d, DOC_STR, s, strlen(s));
}

/* kpt and kustomize tag the functionConfig with the file it came from
 * (relative to the working directory); KSOPS resolves against the
 * working directory. The result is relative to the root. */
static char *config_dir(const struct doc_node *cfg, const char *cwd_rel)
{
	const struct doc_node *ann = k8s_map_get(k8s_map_get(cfg, "metadata"), "annotations");
	const char *p = k8s_map_str(ann, "config.kubernetes.io/path");
	char *copy, *dir, *joined;

	if (!p)
		p = k8s_map_str(ann, "internal.config.kubernetes.io/path");
	if (!p || !strchr(p, '/')) {
		joined = strdup(cwd_rel);
		if (!joined)
			gs_error_set(GS_ERR_NOMEM, "out of memory");
		return joined;
	}
	copy = strdup(p);
	if (!copy) {
		gs_error_set(GS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	dir = dirname(copy);
	joined = k8s_rel_join(cwd_rel, dir);
	free(copy);
	return joined;
}

static int add_result(struct doc *d, struct doc_node *rl, const char *message)
{
	struct doc_node *results = doc_new_list(d), *r = doc_new_map(d);

	if (!results || !r || !doc_append(d, r, "message", 7, str_node(d, message)) ||
	    !doc_append(d, r, "severity", 8, str_node(d, "error")) ||
	    !doc_append(d, results, NULL, 0, r) || !doc_append(d, rl, "results", 7, results))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

int k8s_krm_run(const uint8_t *in, size_t len, const char *cwd, const char *root_dir,
		const struct age_identity_list *ids, struct gs_buf *out, struct k8s_failures *fails)
{
	struct k8s_root root = { .fd = -1 };
	char *cwd_rel = NULL;
	struct doc input, output;
	struct doc_node *rl, *items, *fn_config = NULL, *in_items;
	const char *api = "config.kubernetes.io/v1";
	struct k8s_generator g = { 0 };
	char *base = NULL;
	int ret, err = 0;

	doc_init(&input, DOC_FORMAT_YAML);
	doc_init(&output, DOC_FORMAT_YAML);
	rl = doc_new_map(&output);
	items = doc_new_list(&output);
	if (!rl || !items) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	err = store_load(DOC_FORMAT_YAML, in, len, &input);
	if (!err && (!input.count || input.branches[0]->kind != DOC_MAP))
		err = GS_FAIL(GS_ERR_PARSE, "input is not a ResourceList");
	if (!err) {
		const struct doc_node *rl_in = input.branches[0];
		const char *a = k8s_map_str(rl_in, "apiVersion"), *k = k8s_map_str(rl_in, "kind");

		if (!k || strcmp(k, "ResourceList") || !a ||
		    (strcmp(a, "config.kubernetes.io/v1") && strcmp(a, "config.kubernetes.io/v1alpha1")))
			err = GS_FAIL(GS_ERR_PARSE, "input is not a config.kubernetes.io ResourceList");
		else
			api = a;
	}
	/* the input items always go back out, unchanged */
	in_items = err ? NULL : k8s_map_get(input.branches[0], "items");
	for (size_t i = 0; in_items && in_items->kind == DOC_LIST && i < in_items->count; i++) {
		struct doc_node *c;

		if (in_items->entries[i].removed || in_items->entries[i].value->kind == DOC_COMMENT)
			continue;
		c = doc_clone(&output, in_items->entries[i].value);
		if (!c || !doc_append(&output, items, NULL, 0, c)) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (!err) {
		fn_config = k8s_map_get(input.branches[0], "functionConfig");
		if (!fn_config || !k8s_generator_kind_ok(fn_config))
			err = GS_FAIL(GS_ERR_CONFIG, "functionConfig must be viaduct.ai/v1 ksops or "
						     "gitseal.dev/v1 SecretGenerator");
	}
	if (!err)
		err = k8s_generator_parse(fn_config, &g);
	if (!err)
		err = k8s_root_open_for(cwd, root_dir, &root, &cwd_rel);
	if (!err) {
		base = config_dir(fn_config, cwd_rel);
		if (!base)
			err = GS_ERR_USAGE;
	}
	if (!err) {
		size_t before = items->count;

		err = k8s_generator_run(&g, &root, base, ids, &output, items);
		if (err)
			items->count = before; /* nothing generated reaches the output on failure */
	}
	if (!doc_append(&output, rl, "apiVersion", 10, str_node(&output, api)) ||
	    !doc_append(&output, rl, "kind", 4, str_node(&output, "ResourceList")) ||
	    !doc_append(&output, rl, "items", 5, items)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (err) {
		ret = k8s_failure_add(fails, "%s", gs_error_message());
		if (!ret)
			ret = add_result(&output, rl, gs_error_message());
		if (ret)
			goto out;
	}
	ret = k8s_yaml_emit(rl, out);
	if (!ret && err)
		ret = err;
out:
	free(base);
	free(cwd_rel);
	k8s_root_release(&root);
	k8s_generator_release(&g);
	doc_release(&output);
	doc_release(&input);
	return ret;
}

int k8s_krm_legacy(const char *config_path, const char *cwd, const char *root_dir,
		   const struct age_identity_list *ids, struct gs_buf *out, struct k8s_failures *fails)
{
	struct doc cfg, output;
	struct gs_buf text, stream;
	struct k8s_generator g = { 0 };
	struct k8s_root root = { .fd = -1 };
	struct doc_node *items;
	char *copy = NULL, *base = NULL, *cwd_rel = NULL;
	const char *slash = strrchr(config_path, '/');
	int ret;

	doc_init(&cfg, DOC_FORMAT_YAML);
	doc_init(&output, DOC_FORMAT_YAML);
	gs_buf_init(&text, false);
	gs_buf_init(&stream, true);
	ret = gs_read_file(config_path, &text, K8S_MAX_FILE);
	if (!ret)
		ret = store_load(DOC_FORMAT_YAML, text.data, text.len, &cfg);
	if (!ret && (!cfg.count || !k8s_generator_kind_ok(cfg.branches[0])))
		ret = GS_FAIL(GS_ERR_CONFIG, "not a viaduct.ai/v1 ksops or gitseal.dev/v1 "
					     "SecretGenerator config");
	if (!ret)
		ret = k8s_generator_parse(cfg.branches[0], &g);
	if (ret) {
		gs_error_prefix("'%s'", config_path);
		goto fail;
	}
	/* kustomize hands the plugin a temporary copy of the config and runs
	 * it in the kustomization's directory: relative paths are the CWD's
	 * there. A config named by the user resolves against its directory. */
	if (!strncmp(slash ? slash + 1 : config_path, "kust-plugin-config-", 19)) {
		base = strdup(cwd);
	} else {
		copy = strdup(config_path);
		base = copy ? k8s_path_join(cwd, dirname(copy)) : NULL;
	}
	items = doc_new_list(&output);
	if (!base || !items) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	ret = k8s_root_open_for(base, root_dir, &root, &cwd_rel);
	if (!ret)
		ret = k8s_generator_run(&g, &root, cwd_rel, ids, &output, items);
	for (size_t i = 0; !ret && i < items->count; i++) {
		if (i)
			ret = gs_buf_append_str(&stream, "---\n");
		if (!ret)
			ret = k8s_yaml_emit(items->entries[i].value, &stream);
	}
	if (!ret)
		ret = gs_buf_append(out, stream.data, stream.len);
fail:
	if (ret && k8s_failure_add(fails, "%s", gs_error_message()))
		ret = GS_ERR_NOMEM;
	k8s_root_release(&root);
	free(cwd_rel);
	free(copy);
	free(base);
	k8s_generator_release(&g);
	gs_buf_release(&stream);
	gs_buf_release(&text);
	doc_release(&output);
	doc_release(&cfg);
	return ret;
}
