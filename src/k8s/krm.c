#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
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
		joined = gs_strdup(cwd_rel);
		if (!joined)
			gs_error_set(GS_ERR_NOMEM, "out of memory");
		return joined;
	}
	copy = gs_strdup(p);
	if (!copy) {
		gs_error_set(GS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	dir = dirname(copy);
	joined = k8s_rel_join(cwd_rel, dir);
	free(copy);
	return joined;
}

/* The ResourceList written out: apiVersion, kind, items and, on failure,
 * the message in results. */
static int list_build(struct doc *d, struct doc_node **rl, const char *api, struct doc_node *items,
		      const char *message)
{
	struct doc_node *results, *r;

	*rl = doc_new_map(d);
	if (!*rl || !items || !doc_append(d, *rl, "apiVersion", 10, str_node(d, api)) ||
	    !doc_append(d, *rl, "kind", 4, str_node(d, "ResourceList")) ||
	    !doc_append(d, *rl, "items", 5, items))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!message)
		return 0;
	results = doc_new_list(d);
	r = doc_new_map(d);
	if (!results || !r || !doc_append(d, r, "message", 7, str_node(d, message)) ||
	    !doc_append(d, r, "severity", 8, str_node(d, "error")) ||
	    !doc_append(d, results, NULL, 0, r) || !doc_append(d, *rl, "results", 7, results))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

/* The input: a config.kubernetes.io ResourceList; *api its version. */
static int input_load(struct doc *input, const uint8_t *in, size_t len, const char **api)
{
	const struct doc_node *rl;
	const char *a, *k;
	int ret = store_load(DOC_FORMAT_YAML, in, len, input);

	if (ret)
		return ret;
	if (!input->count || input->branches[0]->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "input is not a ResourceList");
	rl = input->branches[0];
	a = k8s_map_str(rl, "apiVersion");
	k = k8s_map_str(rl, "kind");
	if (!k || strcmp(k, "ResourceList") || !a ||
	    (strcmp(a, "config.kubernetes.io/v1") && strcmp(a, "config.kubernetes.io/v1alpha1")))
		return GS_FAIL(GS_ERR_PARSE, "input is not a config.kubernetes.io ResourceList");
	*api = a;
	return 0;
}

/* The input items go back out unchanged, before what is generated. */
static int items_copy(struct doc *output, struct doc_node *items, const struct doc_node *in_items)
{
	for (size_t i = 0; in_items && in_items->kind == DOC_LIST && i < in_items->count; i++) {
		struct doc_node *c;

		if (in_items->entries[i].removed || in_items->entries[i].value->kind == DOC_COMMENT)
			continue;
		c = doc_clone(output, in_items->entries[i].value);
		if (!c || !doc_append(output, items, NULL, 0, c))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Runs the functionConfig's generator; on failure items is as it was. */
static int generate(const struct doc_node *fn_config, const char *cwd, const char *root_dir,
		    const struct age_identity_list *ids, struct doc *output, struct doc_node *items)
{
	struct k8s_root root = { .fd = -1 };
	struct k8s_generator g = { 0 };
	char *cwd_rel = NULL, *base = NULL;
	size_t before = items->count;
	int ret;

	if (!fn_config || !k8s_generator_kind_ok(fn_config))
		return GS_FAIL(GS_ERR_CONFIG, "functionConfig must be viaduct.ai/v1 ksops or "
					      "gitseal.dev/v1 SecretGenerator");
	ret = k8s_generator_parse(fn_config, &g);
	if (ret)
		goto out;
	ret = k8s_root_open_for(cwd, root_dir, &root, &cwd_rel);
	if (ret)
		goto out;
	base = config_dir(fn_config, cwd_rel);
	if (!base) {
		ret = GS_ERR_USAGE;
		goto out;
	}
	ret = k8s_generator_run(&g, &root, base, ids, NULL, output, items);
out:
	if (ret)
		items->count = before; /* nothing generated reaches the output on failure */
	free(base);
	free(cwd_rel);
	k8s_root_release(&root);
	k8s_generator_release(&g);
	return ret;
}

int k8s_krm_run(const uint8_t *in, size_t len, const char *cwd, const char *root_dir,
		const struct age_identity_list *ids, struct gs_buf *out, struct k8s_failures *fails)
{
	const char *api = "config.kubernetes.io/v1";
	struct doc input, output;
	struct doc_node *rl = NULL, *items;
	int ret = 0, err;

	doc_init(&input, DOC_FORMAT_YAML);
	doc_init(&output, DOC_FORMAT_YAML);
	items = doc_new_list(&output);
	/* err: the function failed, which the ResultList reports; ret: no
	 * ResultList can be written */
	err = items ? input_load(&input, in, len, &api) : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!err) {
		ret = items_copy(&output, items, k8s_map_get(input.branches[0], "items"));
		if (ret)
			goto out;
		err = generate(k8s_map_get(input.branches[0], "functionConfig"), cwd, root_dir, ids,
			       &output, items);
	}
	if (err && (ret = k8s_failure_add(fails, "%s", gs_error_message())))
		goto out;
	ret = list_build(&output, &rl, api, items, err ? gs_error_message() : NULL);
	if (ret)
		goto unproven;
	ret = k8s_yaml_emit_verified(rl, out);
	if (!ret) {
		ret = err;
		goto out;
	}
unproven:
	/* what does not prove is not written: the failure alone is */
	if (rl && (k8s_failure_add(fails, "%s", gs_error_message()) ||
		   list_build(&output, &rl, api, doc_new_list(&output), gs_error_message()) ||
		   k8s_yaml_emit_verified(rl, out)))
		ret = GS_ERR_NOMEM;
out:
	doc_release(&output);
	doc_release(&input);
	return ret;
}

/* A legacy exec plugin's config file: a ksops or gitseal SecretGenerator. */
static int legacy_config_load(const char *path, struct gs_buf *text, struct doc *cfg,
			      struct k8s_generator *g)
{
	int ret = gs_read_file(path, text, K8S_MAX_FILE);

	if (ret)
		goto out;
	ret = store_load(DOC_FORMAT_YAML, text->data, text->len, cfg);
	if (ret)
		goto out;
	if (!cfg->count || !k8s_generator_kind_ok(cfg->branches[0])) {
		ret = GS_FAIL(GS_ERR_CONFIG, "not a viaduct.ai/v1 ksops or gitseal.dev/v1 "
					     "SecretGenerator config");
		goto out;
	}
	ret = k8s_generator_parse(cfg->branches[0], g);
out:
	if (ret)
		gs_error_prefix("'%s'", gs_shown(path));
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
	ret = legacy_config_load(config_path, &text, &cfg, &g);
	if (ret)
		goto fail;
	/* kustomize hands the plugin a temporary copy of the config and runs
	 * it in the kustomization's directory: relative paths are the CWD's
	 * there. A config named by the user resolves against its directory. */
	if (!strncmp(slash ? slash + 1 : config_path, "kust-plugin-config-", 19)) {
		base = gs_strdup(cwd);
	} else {
		copy = gs_strdup(config_path);
		base = copy ? k8s_path_join(cwd, dirname(copy)) : NULL;
	}
	items = doc_new_list(&output);
	if (!base || !items) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	ret = k8s_root_open_for(base, root_dir, &root, &cwd_rel);
	if (ret)
		goto fail;
	ret = k8s_generator_run(&g, &root, cwd_rel, ids, NULL, &output, items);
	if (ret)
		goto fail;
	/* kustomize reads what a legacy plugin writes as YAML and writes it
	 * again, its writer turning U+0085 into a space */
	for (size_t i = 0; i < items->count; i++) {
		if ((ret = k8s_track_kyaml_keeps(items->entries[i].value))) {
			gs_error_prefix("'%s'", gs_shown(config_path));
			goto fail;
		}
		if ((i && (ret = gs_buf_append_str(&stream, "---\n"))) ||
		    (ret = k8s_yaml_emit_verified(items->entries[i].value, &stream)))
			goto fail;
	}
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
