/* gitseal render of a kustomization. Before the build: the kustomization
 * is walked (every path beneath the root), its encrypted resources are
 * decrypted and indexed, its encrypted secretGenerator sources and patch
 * files are decrypted (as Flux does: kustomize then hashes and encodes the
 * plaintext), and KSOPS generator configs are prepared to run gitseal
 * itself as the only plugin. The build runs on the repository as it is,
 * or on a private staged copy when files had to change. After the build,
 * every resource that holds ENC values is bound to its verified source
 * and decrypted from it; nothing encrypted may pass unbound. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/cmdline.h"
#include "gitseal/secret_scan.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "gitseal/sops_format.h"
#include "gitseal/store.h"
#include "k8s_int.h"

/* kustomize runs a generator, transformer or validator config as a KRM
 * function when one of these annotations or a metadata.configFn names
 * one (kyaml fn/runtime/runtimeutil/functiontypes.go, GetFunctionSpec;
 * the last annotation is its legacy form, a container image alone). */
static const char *const function_annotations[] = {
	"config.kubernetes.io/function", "config.k8s.io/function", "config.kubernetes.io/container",
};

struct plaintext {
	char *rel;
	struct gs_buf text; /* secure */
};

struct build {
	const struct k8s_root *root;
	const char *app_rel;
	const struct k8s_render_opts *opts;
	const struct age_identity_list *ids;
	struct k8s_failures *fails;
	struct k8s_walk walk;
	struct k8s_sources *sources;
	struct plaintext *plain; /* decrypted generator sources */
	size_t plain_count;
	struct plaintext *configs; /* KSOPS configs rewritten without function annotations */
	size_t config_count;
	bool ksops;
	/* every value handed to kustomize in plaintext, followed through the
	 * build (track.c) */
	struct gs_secret_set *decrypted;
	struct gs_buf *out;
	size_t *out_docs;
};

static int push_text(struct plaintext **list, size_t *count, const char *rel, bool secure,
		     struct plaintext **item)
{
	struct plaintext *g = gs_realloc(*list, (*count + 1) * sizeof(*g));

	if (!g)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*list = g;
	*item = &g[*count];
	(*item)->rel = gs_strdup(rel);
	gs_buf_init(&(*item)->text, secure);
	if (!(*item)->rel)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	(*count)++;
	return 0;
}

static void release_texts(struct plaintext *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(list[i].rel);
		gs_buf_release(&list[i].text);
	}
	free(list);
}

static const struct plaintext *find_text(const struct plaintext *list, size_t count, const char *rel)
{
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(list[i].rel, rel))
			return &list[i];
	}
	return NULL;
}

/* ---- generator configs ---- */

static bool is_ksops(const struct doc_node *cfg)
{
	return k8s_generator_kind_ok(cfg);
}

/* The entry of cfg that names a KRM function (an annotation of
 * function_annotations or metadata.configFn), NULL when none; *ann is the
 * annotations' entry (NULL when none). */
static struct doc_entry *function_entry(const struct doc_node *cfg, struct doc_entry **ann)
{
	const struct doc_node *meta = k8s_map_get(cfg, "metadata");

	*ann = meta && meta->kind == DOC_MAP ? doc_map_find(meta, "annotations") : NULL;
	for (size_t i = 0; *ann && (*ann)->value->kind == DOC_MAP &&
			   i < sizeof(function_annotations) / sizeof(function_annotations[0]); i++) {
		struct doc_entry *e = doc_map_find((*ann)->value, function_annotations[i]);

		if (e)
			return e;
	}
	return meta && meta->kind == DOC_MAP ? doc_map_find(meta, "configFn") : NULL;
}

static int add_paths(struct build *b, const char *kdir, const struct doc_node *list,
		     bool key_value)
{
	for (size_t i = 0; list && i < list->count; i++) {
		const struct doc_node *v = list->entries[i].value;
		int ret;

		if (list->entries[i].removed || v->kind != DOC_SCALAR)
			continue;
		ret = k8s_walk_add_path(&b->walk, b->root, kdir, v->text, key_value);
		if (ret)
			return ret;
	}
	return 0;
}

/* What a KSOPS config will hand kustomize, decrypted here as the plugin
 * will decrypt it (the same files, the same code), so that a file that
 * cannot be decrypted fails with gitseal's line; what was ciphertext in
 * its files is followed through the build: the values of the v1 Secrets
 * its manifests hold, its secretFrom sources, each tracked as its file is
 * decrypted (once). */
static int ksops_track(struct build *b, const char *where, const char *kdir,
		       const struct k8s_generator *g)
{
	struct doc out;
	struct doc_node *items;
	int ret;

	doc_init(&out, DOC_FORMAT_YAML);
	items = doc_new_list(&out);
	ret = items ? k8s_generator_run(g, b->root, kdir, b->ids, b->decrypted, &out, items)
		    : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* kustomize reads what the plugin writes as YAML and writes it again */
	for (size_t i = 0; !ret && i < items->count; i++)
		ret = k8s_track_kyaml_keeps(items->entries[i].value);
	doc_release(&out);
	if (ret)
		gs_error_prefix("%s", where);
	return ret;
}

/* The files a KSOPS config reads, relative to the kustomization directory
 * (kustomize runs legacy plugins there), staged with the build; what they
 * hold, tracked. */
static int ksops_paths(struct build *b, const char *where, const char *kdir,
		       const struct doc_node *cfg)
{
	struct k8s_generator g;
	int ret = k8s_generator_parse(cfg, &g);

	if (ret)
		goto out;
	ret = add_paths(b, kdir, g.files, false);
	for (size_t s = 0; !ret && s < g.secret_from_count; s++) {
		const struct k8s_secret_from *sf = &g.secret_from[s];

		/* files and binaryFiles entries are key=path, envs entries paths */
		if ((ret = add_paths(b, kdir, sf->files, true)) ||
		    (ret = add_paths(b, kdir, sf->binary_files, true)))
			goto out;
		ret = add_paths(b, kdir, sf->envs, false);
	}
	if (!ret)
		ret = ksops_track(b, where, kdir, &g);
out:
	k8s_generator_release(&g);
	return ret;
}

static bool is_gitseal_generator(const struct doc_node *cfg)
{
	const char *api = k8s_map_str(cfg, "apiVersion"), *kind = k8s_map_str(cfg, "kind");

	return api && kind && !strcmp(api, "gitseal.dev/v1") && !strcmp(kind, "SecretGenerator");
}

/* kustomize finds a legacy plugin by the config's apiVersion and kind, and
 * the private plugin home holds only ksops: a gitseal.dev/v1
 * SecretGenerator, which gitseal reads exactly as a ksops config, is handed
 * to kustomize as one. */
static int as_ksops(struct doc *d, struct doc_node *cfg)
{
	struct doc_entry *api = doc_map_find(cfg, "apiVersion"), *kind = doc_map_find(cfg, "kind");
	int ret = doc_scalar_set(d, api->value, DOC_STR, "viaduct.ai/v1", strlen("viaduct.ai/v1"));

	return ret ? ret : doc_scalar_set(d, kind->value, DOC_STR, "ksops", strlen("ksops"));
}

/* The staged copy of a generator file: KSOPS configs without what names a
 * KRM function (gitseal, not the repository, decides what runs), and in
 * the form the private plugin home serves. */
static int rewrite_config(struct build *b, const char *rel, struct doc *d)
{
	struct plaintext *t;
	int ret = push_text(&b->configs, &b->config_count, rel, false, &t);

	for (size_t i = 0; !ret && i < d->count; i++) {
		struct doc_entry *ann, *fn;

		if (is_gitseal_generator(d->branches[i]) && (ret = as_ksops(d, d->branches[i])))
			break;

		while ((fn = function_entry(d->branches[i], &ann)))
			fn->removed = true;
		if (ann && ann->value->kind == DOC_MAP) {
			bool live = false;

			for (size_t k = 0; k < ann->value->count; k++)
				live |= !ann->value->entries[k].removed;
			ann->removed = !live;
		}
		if (i && (ret = gs_buf_append_str(&t->text, "---\n")))
			break;
		ret = k8s_yaml_emit_verified(d->branches[i], &t->text);
	}
	return ret;
}

/* The generator, transformer or validator configs of one file (or inline
 * in the kustomization file; where names them in a message): a KSOPS
 * config's files are staged; a KRM function from the repository is
 * refused; a builtin generator's sources are walked like the
 * kustomization's own. *rewrite: the staged copy must differ (a function
 * annotation to drop, a SecretGenerator to hand over as ksops), which an
 * inline config, held in its kustomization, cannot. */
static int inspect_configs(struct build *b, struct doc *d, const char *file, const char *where,
			   const char *kdir, bool *rewrite)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < d->count; i++) {
		const struct doc_node *cfg = d->branches[i];
		const char *api = k8s_map_str(cfg, "apiVersion"), *kind = k8s_map_str(cfg, "kind");
		struct doc_entry *ann;
		bool fn = function_entry(cfg, &ann) != NULL;

		if (is_ksops(cfg)) {
			b->ksops = true;
			*rewrite |= fn || is_gitseal_generator(cfg);
			ret = ksops_paths(b, where, kdir, cfg);
		} else if (fn) {
			ret = GS_FAIL(GS_ERR_USAGE, "%s: %s/%s is a KRM function: exec and container "
						    "functions from the repository are not run",
				      where, gs_shown(api ? api : "?"), gs_shown(kind ? kind : "?"));
		} else if (!api || strcmp(api, "builtin") || !kind || strchr(kind, '/')) {
			/* kustomize runs a legacy plugin found at PLUGIN_HOME/<apiVersion>/
			 * <lower kind>/<kind>, unchecked: '..' in either walks out of the
			 * private home to any program (/bin/sh running the config) */
			ret = GS_FAIL(GS_ERR_USAGE, "%s: %s/%s is an external plugin: only KSOPS "
						    "generators and kustomize's builtin ones are run",
				      where, gs_shown(api ? api : "?"), gs_shown(kind ? kind : "?"));
		} else if (!strcmp(kind, "HelmChartInflationGenerator")) {
			/* the config form of helmCharts, refused as that is
			 * (kustomization.c): with --enable-helm kustomize runs helm
			 * on a chartHome and values files it does not confine */
			ret = GS_FAIL(GS_ERR_USAGE, "%s: builtin/HelmChartInflationGenerator: Helm charts in a "
						    "kustomization are not rendered; use Argo CD's Helm source", where);
		} else if (!strcmp(kind, "SecretGenerator") || !strcmp(kind, "ConfigMapGenerator")) {
			ret = k8s_walk_generator_args(&b->walk, b->root, file, kdir, cfg,
						      !strcmp(kind, "SecretGenerator"));
		} else {
			ret = k8s_walk_builtin_config(&b->walk, b->root, file, kdir, cfg, kind);
		}
	}
	return ret;
}

/* rel and kdir: the walk file's own strings, which stay where they are
 * while the files its configs name grow the walk's array */
static int inspect_generator(struct build *b, const char *rel, const char *kdir)
{
	bool rewrite = false;
	char where[PATH_MAX + 8];
	struct doc d;
	int ret;

	snprintf(where, sizeof(where), "'%s'", gs_shown(rel));
	doc_init(&d, DOC_FORMAT_YAML);
	ret = k8s_walk_load_yaml(b->root, rel, &d);
	if (ret)
		goto out;
	ret = inspect_configs(b, &d, rel, where, kdir, &rewrite);
	if (ret)
		goto out;
	if (rewrite)
		ret = rewrite_config(b, rel, &d);
out:
	doc_release(&d);
	return ret;
}

static int inspect_inline(struct build *b, const struct k8s_walk_inline *it)
{
	bool rewrite = false;
	char where[PATH_MAX + 32];
	struct doc d;
	int ret;

	snprintf(where, sizeof(where), "'%s' (inline config)", gs_shown(it->kfile));
	doc_init(&d, DOC_FORMAT_YAML);
	ret = k8s_load_config_yaml((const uint8_t *)it->text, strlen(it->text), &d);
	if (ret) {
		gs_error_prefix("%s", where);
		goto out;
	}
	ret = inspect_configs(b, &d, it->kfile, where, it->kdir, &rewrite);
	if (ret)
		goto out;
	if (rewrite)
		ret = GS_FAIL(GS_ERR_USAGE, "%s: a KSOPS config naming a KRM function (an annotation or configFn), or a "
					    "gitseal.dev/v1 SecretGenerator, must be in a file of its own",
			      where);
out:
	doc_release(&d);
	return ret;
}

/* ---- generator sources ---- */

/* What an encrypted source may not be used as, by its role, checked on
 * every role a file has (kustomize would publish its plaintext). */
static int source_role_check(const struct k8s_walk_file *f, enum doc_format format)
{
	switch (f->role) {
	case K8S_FILE_CONFIGMAP_SOURCE:
		return GS_FAIL(GS_ERR_USAGE, "'%s' is encrypted: a configMapGenerator would publish it "
					     "(use a secretGenerator)", gs_shown(f->rel));
	case K8S_FILE_SECRET_ENV:
		/* kustomize reads every line as KEY=VALUE: YAML, JSON or INI
		 * text would become key names, which nothing masks */
		if (format != DOC_FORMAT_DOTENV)
			return GS_FAIL(GS_ERR_USAGE, "'%s' is encrypted and not a dotenv file: a "
						     "secretGenerator's envs would publish its lines as key "
						     "names (use files:, or a dotenv file)", gs_shown(f->rel));
		return 0;
	case K8S_FILE_PATCH:
		if (f->wide_target)
			return GS_FAIL(GS_ERR_USAGE, "'%s' is encrypted: a patch target that can select "
						     "another kind would publish it (target kind: Secret, "
						     "version v1 or none, no group)", gs_shown(f->rel));
		return 0;
	default:
		return 0;
	}
}

/* A decrypted patch applies to its own kind when it has no target: every
 * document must be a core v1 Secret (its kind is not named: it may have
 * been encrypted). */
static int patch_is_secret(const struct k8s_walk_file *f, const struct doc *d)
{
	for (size_t i = 0; i < d->count; i++) {
		const char *api = k8s_map_str(d->branches[i], "apiVersion");
		const char *kind = k8s_map_str(d->branches[i], "kind");

		if (!api || strcmp(api, "v1") || !kind || strcmp(kind, "Secret"))
			return GS_FAIL(GS_ERR_USAGE, "'%s' is encrypted: as a patch it must be a v1 "
						     "Secret, and document %zu is not (another kind would "
						     "publish it)", gs_shown(f->rel), i + 1);
	}
	return 0;
}

/* A generator source or patch file: when it is a sops file, opened
 * through the file pipeline (the MAC checked) and emitted as plaintext in
 * its own format and layout, proven, for the staged build; once, however
 * many roles it has, each of them checked. */
static int generator_source(struct build *b, const struct k8s_walk_file *f)
{
	enum doc_format format = store_format_for_path(f->rel);
	struct sops_open_opts oo = { .format = format, .ids = b->ids };
	struct sops_emit_opts eo = { .drop_source = true };
	bool done = find_text(b->plain, b->plain_count, f->rel) != NULL;
	struct sops_file *sf = NULL;
	struct plaintext *t;
	struct gs_buf text;
	struct doc d, cipher;
	int ret;

	gs_buf_init(&text, false);
	doc_init(&d, format);
	doc_init(&cipher, format);
	ret = k8s_root_read(b->root, f->rel, &text, K8S_MAX_FILE);
	if (ret)
		goto out;
	if (store_load_buf(format, &text, &d) || !sops_doc_is_encrypted(&d)) {
		/* what does not load as its format is no sops file: kustomize reads it */
		gs_error_clear();
		goto out;
	}
	if ((ret = source_role_check(f, format)) || (done && f->role != K8S_FILE_PATCH))
		goto out;
	if ((ret = k8s_doc_copy(&cipher, &d)) || (ret = sops_file_open_doc(&d, &oo, &sf)))
		goto prefix;
	if (f->role == K8S_FILE_PATCH && (ret = patch_is_secret(f, sops_file_doc(sf))))
		goto out;
	/* a patch's values reach the output through kustomize's YAML writer */
	for (size_t i = 0; f->role == K8S_FILE_PATCH && i < sops_file_doc(sf)->count; i++) {
		if ((ret = k8s_track_kyaml_keeps(sops_file_doc(sf)->branches[i])))
			goto prefix;
	}
	if (done)
		goto out;
	ret = push_text(&b->plain, &b->plain_count, f->rel, true, &t);
	if (!ret)
		ret = sops_plain_emit(sops_file_doc(sf), format, &eo, &t->text);
	/* what kustomize reads of it, whatever role it has (a file is
	 * decrypted once for all of them) */
	if (!ret)
		ret = k8s_track_sops(b->decrypted, &cipher, sops_file_doc(sf), &t->text,
				     K8S_TRACK_WHOLE | K8S_TRACK_SECRETS |
					     (format == DOC_FORMAT_DOTENV ? K8S_TRACK_ENV_LINES : 0));
prefix:
	if (ret)
		gs_error_prefix("'%s'", gs_shown(f->rel));
out:
	sops_file_free(sf);
	doc_release(&cipher);
	doc_release(&d);
	gs_buf_release(&text);
	return ret;
}

/* ---- before the build ---- */

static int prepare(struct build *b)
{
	int ret = 0;

	/* generator configs can name more files: walk them first */
	for (size_t i = 0; i < b->walk.count; i++) {
		if (b->walk.files[i].role != K8S_FILE_GENERATOR)
			continue;
		ret = inspect_generator(b, b->walk.files[i].rel, b->walk.files[i].kdir);
		if (ret && (ret = k8s_failure_add(b->fails, "%s", gs_error_message())))
			return ret;
	}
	for (size_t i = 0; i < b->walk.inline_count; i++) {
		ret = inspect_inline(b, &b->walk.inlines[i]);
		if (ret && (ret = k8s_failure_add(b->fails, "%s", gs_error_message())))
			return ret;
	}
	for (size_t i = 0; i < b->walk.count; i++) {
		const struct k8s_walk_file *f = &b->walk.files[i];

		switch (f->role) {
		case K8S_FILE_RESOURCE:
			ret = k8s_sources_add_file(b->sources, b->root, f->rel, b->ids, b->fails);
			break;
		case K8S_FILE_PATCH: /* decrypted before the build, as Flux does */
		case K8S_FILE_SECRET_FILE:
		case K8S_FILE_SECRET_ENV:
		case K8S_FILE_CONFIGMAP_SOURCE:
			ret = generator_source(b, f);
			if (ret)
				ret = k8s_failure_add(b->fails, "%s", gs_error_message());
			break;
		default:
			break;
		}
		if (ret)
			return ret;
	}
	/* kustomize reads each file once, from the stage: a file staged
	 * decrypted for its role as a patch or secretGenerator source is read
	 * decrypted in its every role, as a resource too, whose values
	 * otherwise go through the build as ciphertext, bound after it */
	for (size_t i = 0; !ret && i < b->walk.count; i++) {
		const struct k8s_walk_file *f = &b->walk.files[i];

		if (f->role == K8S_FILE_PATCH || f->role == K8S_FILE_SECRET_FILE || f->role == K8S_FILE_SECRET_ENV ||
		    f->role == K8S_FILE_CONFIGMAP_SOURCE || !find_text(b->plain, b->plain_count, f->rel))
			continue;
		ret = k8s_failure_add(b->fails, "'%s' is encrypted and decrypted for the build as a patch or "
						"secretGenerator source: kustomize would read that plaintext where "
						"the kustomization names it as %s too",
				      gs_shown(f->rel), f->role == K8S_FILE_RESOURCE ? "a resource" : "another file");
	}
	if (ret)
		return ret;
	if (!b->fails->count && b->opts->ns_policy == K8S_NS_SOURCE && (b->ksops || b->plain_count))
		ret = k8s_failure_add(b->fails, "'%s': encrypted generator sources and patches name no "
						"namespace of their own: --bind-namespace needs a list of "
						"namespaces here", gs_shown(b->app_rel));
	return ret;
}

/* ---- values the repository holds in clear ---- */

/* Bytes of the build's inputs read for values they hold in clear, all
 * files together; past it the rest are not read, and their values stay
 * followed. */
#define PUBLIC_READ_MAX ((size_t)4 * K8S_MAX_FILE)

/* The clear scalars (keys, values, comments) of a loaded file; those of
 * a sops file that are ciphertext are skipped. */
static int drop_scalars(struct build *b, const struct doc_node *n, int depth)
{
	int ret = 0;

	if (depth > K8S_MAX_DEPTH)
		return 0;
	if (n->kind == DOC_SCALAR || n->kind == DOC_COMMENT)
		return n->len > strlen(SOPS_ENC_OPEN) && !memcmp(n->text, SOPS_ENC_OPEN, strlen(SOPS_ENC_OPEN))
			       ? 0 : gs_secret_set_drop_found(b->decrypted, n->text, n->len);
	for (size_t i = 0; !ret && (n->kind == DOC_MAP || n->kind == DOC_LIST) && i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->key)
			ret = gs_secret_set_drop_found(b->decrypted, e->key, e->key_len);
		if (!ret)
			ret = drop_scalars(b, e->value, depth + 1);
	}
	return ret;
}

/* One input of the build: a file that is no sops file as it is, and
 * also as its format reads it; a sops file by its clear values only. */
static int drop_public_file(struct build *b, const char *rel, size_t *budget)
{
	enum doc_format format = store_format_for_path(rel);
	struct gs_buf text;
	bool sops = false;
	struct doc d;
	int ret;

	gs_buf_init(&text, false);
	doc_init(&d, format);
	if (k8s_root_read(b->root, rel, &text, *budget < K8S_MAX_FILE ? *budget : K8S_MAX_FILE)) {
		/* kustomize reports what it cannot read; an unread file drops nothing */
		gs_error_clear();
		ret = 0;
		goto out;
	}
	*budget -= text.len;
	if (!store_load_data(format, text.data, text.len, &d)) {
		sops = sops_doc_is_encrypted(&d);
		ret = 0;
		for (size_t i = 0; !ret && i < d.count; i++)
			ret = drop_scalars(b, d.branches[i], 0);
	} else {
		gs_error_clear();
		ret = 0;
	}
	if (!ret && !sops)
		ret = gs_secret_set_drop_found(b->decrypted, (const char *)text.data, text.len);
out:
	doc_release(&d);
	gs_buf_release(&text);
	return ret;
}

/* A value decrypted for the build that the repository also holds in
 * clear (a host or user name a Deployment names too, a value a sops file
 * keeps in clear) is no secret, and is not followed: the build's inputs
 * beneath the root, as render reads and stages them, are searched for
 * each. This leaves the attacks the check is for refused: who moves a
 * value through kustomize's features does not know it, so cannot put it
 * in clear in the repository. */
static int drop_public(struct build *b)
{
	size_t budget = PUBLIC_READ_MAX;
	int ret = 0;

	for (size_t i = 0; !ret && budget && i < b->walk.count; i++) {
		if (!gs_secret_set_count(b->decrypted))
			break;
		ret = drop_public_file(b, b->walk.files[i].rel, &budget);
	}
	return ret;
}

static int stage(struct build *b, struct k8s_stage *st)
{
	int ret = k8s_stage_create(st);

	if (ret)
		return ret;
	/* before any plaintext is in it */
	if (b->opts->care)
		b->opts->care->staged(st->dir);
	for (size_t i = 0; i < b->walk.dir_count; i++) {
		ret = k8s_stage_dir(st, b->walk.dirs[i]);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < b->walk.count; i++) {
		const char *rel = b->walk.files[i].rel;
		const struct plaintext *t = find_text(b->plain, b->plain_count, rel);

		if (!t)
			t = find_text(b->configs, b->config_count, rel);
		if (t)
			ret = k8s_stage_write(st, rel, t->text.data, t->text.len);
		else
			ret = k8s_stage_copy(st, b->root, rel);
		if (ret)
			return ret;
	}
	if (!b->ksops)
		return 0;
	if (!b->opts->self_exe)
		return GS_FAIL(GS_ERR_USAGE, "KSOPS generators need the path of gitseal");
	return k8s_stage_plugins(st, b->opts->self_exe);
}

/* ---- the build ---- */

struct child_env {
	const char *name;
	const char *value;
};

struct child_run {
	char **argv;
	const char *cwd;
	const struct child_env *env;
	size_t env_count;
	/* the build read decrypted files: its messages (kustomize quotes the
	 * node it failed on) go nowhere */
	bool withhold_stderr;
	const struct k8s_signal_care *care;
};

/* In the child: stdout to the pipe, then the build. */
static void child_exec(const struct child_run *c, int out_fd)
{
	int null_fd;

	if (dup2(out_fd, STDOUT_FILENO) < 0 || chdir(c->cwd))
		_exit(127);
	close(out_fd);
	if (c->withhold_stderr && ((null_fd = open("/dev/null", O_WRONLY)) < 0 ||
				   dup2(null_fd, STDERR_FILENO) < 0))
		_exit(127);
	for (size_t i = 0; i < c->env_count; i++)
		setenv(c->env[i].name, c->env[i].value, 1);
	execvp(c->argv[0], c->argv);
	_exit(127);
}

/* The child's output into out, to its end (secure: it holds plaintext). */
static int read_output(int fd, struct gs_buf *out)
{
	int ret = 0;

	for (;;) {
		uint8_t buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* after an error the pipe is still read to its end: the child must not block */
		if (!ret && out->len + (size_t)n > K8S_MAX_FILE)
			ret = GS_FAIL(GS_ERR_LIMIT, "kustomize output larger than %d bytes", K8S_MAX_FILE);
		if (!ret)
			ret = gs_buf_append(out, buf, (size_t)n);
		sodium_memzero(buf, sizeof(buf));
	}
	return ret;
}

/* Runs the build with its output captured; its stderr is the user's
 * unless withheld. */
static int run_build(const struct child_run *c, struct gs_buf *out)
{
	int fds[2], status = 0, ret = 0;
	pid_t pid;

	if (pipe(fds))
		return GS_FAIL(GS_ERR_IO, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = c->care ? c->care->fork() : fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return GS_FAIL(GS_ERR_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child_exec(c, fds[1]);
	}
	close(fds[1]);
	ret = read_output(fds[0], out);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (c->care)
		c->care->reaped();
	if (ret)
		return ret;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return GS_FAIL(GS_ERR_IO, "cannot run '%s'", gs_shown(c->argv[0]));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return GS_FAIL(GS_ERR_GENERIC, "'%s' failed (exit status %d)", gs_shown(c->argv[0]),
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *c = strchr(path, ':');
		size_t n = c ? (size_t)(c - path) : strlen(path);

		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return true;
		path += n + (c ? 1 : 0);
	}
	return false;
}

/* The kustomize command line (GITSEAL_KUSTOMIZE), split as sops splits
 * SOPS_AGE_KEY_CMD, with room for two more words. */
static int build_argv(const struct k8s_render_opts *opts, char ***argv_out, size_t *argc_out)
{
	const char *cmd = opts->kustomize_cmd;

	if (!cmd || !*cmd)
		cmd = in_path("kustomize") ? "kustomize build" : "kubectl kustomize";
	return cmdline_split("the kustomize command", cmd, 2, argv_out, argc_out);
}

/* In a build that held plaintext (decrypted generator sources or patches,
 * KSOPS), a resource of kind Secret must be the core v1 one, which Argo CD
 * masks and etcd keeps as a Secret: a patch target cannot name the core
 * group (kustomization.c), and a patch can change a generated Secret's
 * apiVersion. */
static int secret_kind_check(const struct doc_node *root)
{
	const char *kind = k8s_map_str(root, "kind"), *api = k8s_map_str(root, "apiVersion");

	if (!kind || strcmp(kind, "Secret") || (api && !strcmp(api, "v1")))
		return 0;
	return GS_FAIL(GS_ERR_CONFIG, "a Secret of apiVersion '%s' in a build that decrypted "
				      "generator sources or patches, or ran KSOPS: only a v1 Secret "
				      "may hold their plaintext", gs_shown(api ? api : ""));
}

static const char *shown(struct build *b, const char *text)
{
	return !text ? "?" : k8s_track_holds(b->decrypted, text) ? "(withheld)" : gs_shown(text);
}

/* A resource holding plaintext handed to kustomize (as kustomize built it:
 * before its ciphertexts are decrypted) outside a v1 Secret's values: one
 * failure line naming the field; its kind and name are withheld where
 * they hold such a value too. *moved: the resource failed. */
static int plaintext_check(struct build *b, size_t index, const struct doc_node *root, bool *moved)
{
	struct k8s_identity id;
	char msg[1024];

	*moved = k8s_track_check(b->decrypted, root) != 0;
	if (!*moved)
		return 0;
	snprintf(msg, sizeof(msg), "%s", gs_error_message());
	k8s_identity_of(root, &id);
	return k8s_failure_add(b->fails, "'%s': resource %s/%s (document %zu): %s", gs_shown(b->app_rel),
			       shown(b, id.kind), shown(b, id.name), index + 1, msg);
}

/* kustomize names a generated Secret (a secretGenerator's without
 * disableNameSuffixHash, a KSOPS Secret annotated needs-hash) by an
 * unkeyed hash of its type and values, computed after every transformer
 * (api/hasher), which Argo CD shows and every referrer carries: a Secret
 * whose every value is in clear in the repository or shorter than 6 bytes
 * (a PIN) is guessed offline from it, a PIN in 10^5 hashes. A value the
 * pull request's author encrypted is known to them: only a value of 6
 * bytes or more of the short value's own file makes the guess hopeless.
 * The line names the Secret without its hash. */
static int name_hash_check(struct build *b, size_t index, const struct doc_node *root, bool *refused)
{
	const char *name = k8s_map_str(k8s_map_get(root, "metadata"), "name");
	char base[256];
	int ret = k8s_track_name_hash(b->decrypted, root, refused);

	if (ret) {
		*refused = true;
		return k8s_failure_add(b->fails, "'%s': resource Secret (document %zu): %s", gs_shown(b->app_rel),
				       index + 1, gs_error_message());
	}
	if (!*refused)
		return 0;
	snprintf(base, sizeof(base), "%.*s", (int)k8s_name_hash_base(name), name);
	return k8s_failure_add(b->fails, "'%s': Secret '%s' (document %zu) is named by kustomize with a hash of "
					 "its values, and it holds a value decrypted for the build shorter than 6 "
					 "bytes with no value of 6 bytes or more of the same file: the name, which "
					 "Argo CD and its referrers show, would let it be guessed offline (turn the "
					 "hash off: disableNameSuffixHash, or drop the needs-hash annotation)",
			       gs_shown(b->app_rel), shown(b, base), index + 1);
}

/* A resource of the build: bound to its verified source and decrypted
 * from it, then written by the pipeline's proven emitter in kustomize's
 * layout; one with nothing encrypted and no sops entry goes out as
 * kustomize wrote it. */
static int built_resource(struct build *b, size_t index, const uint8_t *text, size_t len)
{
	const struct k8s_source_doc *src = NULL;
	char what[256];
	bool moved;
	struct doc d;
	int ret;

	doc_init(&d, DOC_FORMAT_YAML);
	ret = store_load(DOC_FORMAT_YAML, text, len, &d);
	if (ret) {
		ret = k8s_failure_add(b->fails, "kustomize output document %zu: %s", index + 1,
				      gs_error_message());
		goto out;
	}
	if (!d.count || d.branches[0]->kind != DOC_MAP)
		goto out;
	ret = plaintext_check(b, index, d.branches[0], &moved);
	if (!ret && !moved && (b->ksops || b->plain_count))
		ret = name_hash_check(b, index, d.branches[0], &moved);
	if (ret || moved)
		goto out;
	k8s_resource_name(d.branches[0], what, sizeof(what));
	ret = k8s_sources_bind(b->sources, &d, d.branches[0], &src);
	if (ret)
		goto failed;
	ret = k8s_check_no_encoded_ciphertext(d.branches[0]);
	if (ret)
		goto failed;
	ret = k8s_render_check_namespace(b->opts, d.branches[0], src, b->ksops || b->plain_count);
	if (ret)
		goto failed;
	if ((b->ksops || b->plain_count) && (ret = secret_kind_check(d.branches[0])))
		goto failed;
	if (!k8s_resource_strip_sops(d.branches[0]) && !src)
		ret = k8s_stream_append_source(b->out, b->out_docs, &d, text, len);
	else
		ret = k8s_stream_append_plain(b->out, b->out_docs, &d);
	if (!ret)
		goto out;
failed:
	ret = k8s_failure_add(b->fails, "resource %s (document %zu): %s", what, index + 1,
			      gs_error_message());
out:
	doc_release(&d);
	return ret;
}

/* The fixed end of a failed build's line when its messages were withheld. */
#define WITHHELD "; its messages are withheld, as they can quote the decrypted files: build " \
		 "the app with kustomize itself (it reads them encrypted) to see them"

static int build_and_bind(struct build *b, const char *tree, const struct k8s_stage *st)
{
	struct child_run run;
	struct child_env env[2];
	char **argv = NULL, *dir = NULL;
	size_t argc = 0, count = 0, env_count = 0;
	struct k8s_span *spans = NULL;
	struct gs_buf built;
	int ret;

	gs_buf_init(&built, true);
	ret = build_argv(b->opts, &argv, &argc);
	if (ret)
		return ret;
	dir = strcmp(b->app_rel, ".") ? k8s_path_join(tree, b->app_rel) : gs_strdup(tree);
	if (!dir) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (b->ksops) {
		/* only gitseal is a plugin: the plugin home is private (kustomize
		 * takes KUSTOMIZE_PLUGIN_HOME before XDG_CONFIG_HOME, which stays
		 * the user's: the plugin reads the default keys.txt there, as
		 * sops does, besides SOPS_AGE_KEY_FILE) */
		env[env_count++] = (struct child_env){ "KUSTOMIZE_PLUGIN_HOME", st->plugins };
		env[env_count++] = (struct child_env){ "GITSEAL_K8S_ROOT", tree };
		argv[argc++] = (char *)"--enable-alpha-plugins";
	}
	argv[argc++] = dir;
	argv[argc] = NULL;
	run = (struct child_run){ argv, dir, env, env_count, b->ksops || b->plain_count, b->opts->care };
	ret = run_build(&run, &built);
	if (ret) {
		ret = k8s_failure_add(b->fails, "'%s': kustomize build: %s%s", gs_shown(b->app_rel),
				      gs_error_message(), run.withhold_stderr ? WITHHELD : "");
		goto out;
	}
	ret = k8s_stream_split((const char *)built.data, built.len, &spans, &count);
	for (size_t i = 0; !ret && i < count; i++)
		ret = built_resource(b, i, built.data + spans[i].start, spans[i].end - spans[i].start);
out:
	free(spans);
	free(dir);
	free(argv);
	gs_buf_release(&built);
	return ret;
}

int k8s_render_kustomize(const struct k8s_root *root, const char *app_rel,
			 const struct k8s_render_opts *opts, const struct age_identity_list *ids,
			 struct k8s_failures *fails, struct gs_buf *out, size_t *out_docs)
{
	struct build b = { .root = root, .app_rel = app_rel, .opts = opts, .ids = ids,
			   .fails = fails, .out = out, .out_docs = out_docs };
	struct k8s_stage st = { 0 };
	int ret;

	ret = k8s_walk(root, app_rel, &b.walk);
	if (ret) {
		ret = k8s_failure_add(fails, "%s", gs_error_message());
		goto out;
	}
	if ((ret = k8s_sources_new(&b.sources)) || (ret = gs_secret_set_new(&b.decrypted)))
		goto out;
	ret = prepare(&b);
	if (ret || fails->count)
		goto out;
	if ((ret = drop_public(&b))) {
		ret = k8s_failure_add(fails, "'%s': %s", gs_shown(app_rel), gs_error_message());
		goto out;
	}
	if (b.ksops && b.walk.has_remote) {
		ret = k8s_failure_add(fails, "'%s': a KSOPS build cannot use remote resources: "
					     "kustomize would run the plugins their generators name",
				      gs_shown(app_rel));
		goto out;
	}
	/* kustomize patches a generator directory's output, kind, apiVersion
	 * and fields, after inspect_configs saw it, and reads the paths of the
	 * result from the listing kustomization's directory: a LabelTransformer
	 * patched into a ConfigMapGenerator published a decrypted
	 * secretGenerator source (or, under LoadRestrictionsNone, any file of
	 * the machine); with plugins on, the apiVersion picks the program */
	if (b.walk.generator_dir) {
		ret = k8s_failure_add(fails, "%s is a kustomization directory listed as generators, "
					     "transformers or validators: its patches could change a config "
					     "after gitseal read it; list the config files themselves",
				      b.walk.generator_dir);
		goto out;
	}
	if ((b.ksops || b.plain_count) && b.walk.value_copy) {
		ret = k8s_failure_add(fails, "%s", b.walk.value_copy);
		goto out;
	}
	/* a whole value is followed through the build from 6 bytes on; a
	 * shorter one (a PIN, a port) only by where kustomize may carry it */
	if ((b.ksops || b.plain_count) && b.walk.whole_copy && gs_secret_set_short_count(b.decrypted)) {
		ret = k8s_failure_add(fails, "%s", b.walk.whole_copy);
		goto out;
	}
	if (b.ksops || b.plain_count) {
		ret = stage(&b, &st);
		if (ret)
			ret = k8s_failure_add(fails, "%s", gs_error_message());
		else
			ret = build_and_bind(&b, st.tree, &st);
	} else {
		/* nothing to change: kustomize reads the repository itself */
		ret = build_and_bind(&b, root->path, NULL);
	}
out:
	if (st.dir) {
		k8s_stage_remove(&st);
		if (opts->care)
			opts->care->staged(NULL);
	}
	release_texts(b.plain, b.plain_count);
	release_texts(b.configs, b.config_count);
	k8s_sources_free(b.sources);
	gs_secret_set_free(b.decrypted);
	k8s_walk_release(&b.walk);
	return ret;
}
