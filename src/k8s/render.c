/* gitseal render: a directory or a kustomization to one verified manifest
 * stream. Every file read resolves beneath the root (confine.c); built
 * resources are bound to sources gitseal read itself (sources.c); every
 * sops file is opened, and every decrypted document written, through the
 * file pipeline (gitseal/sops.h: the MAC checked, the output proven); the
 * stream reaches the caller only when everything succeeded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "k8s_int.h"

struct render {
	const struct k8s_render_opts *opts;
	const struct age_identity_list *ids;
	struct k8s_failures *fails;
	struct k8s_root root;
	char *app_rel;
	struct gs_buf *out; /* secure; the stream so far */
	size_t out_docs;
};

static bool in_list(const char *ns, const char *const *list, size_t count)
{
	for (size_t i = 0; ns && i < count; i++) {
		if (!strcmp(ns, list[i]))
			return true;
	}
	return false;
}

/* --bind-namespace. out is the resource written out; src the encrypted
 * source it was decrypted from (NULL for one that held no ciphertext);
 * plaintext_inputs: the build decrypted generator sources or patches, or
 * ran KSOPS, so any resource of it may hold plaintext that names no
 * source. */
static int namespace_check_one(const struct k8s_render_opts *o, const struct doc_node *out,
			       const struct k8s_source_doc *src, bool plaintext_inputs)
{
	struct k8s_identity id;
	const char *ns;

	k8s_identity_of(out, &id);
	ns = id.namespace ? id.namespace : o->default_namespace;
	switch (o->ns_policy) {
	case K8S_NS_SOURCE:
		if (!src)
			return 0;
		if (!src->id.namespace)
			return GS_FAIL(GS_ERR_CONFIG, "its source names no namespace (--bind-namespace)");
		if (!src->namespace_authenticated)
			return GS_FAIL(GS_ERR_CONFIG, "its source's namespace is not covered by the MAC "
						      "(mac_only_encrypted)");
		if (!ns || strcmp(ns, src->id.namespace))
			return GS_FAIL(GS_ERR_CONFIG, "namespace '%s' is not its source's '%s' "
						      "(--bind-namespace)", gs_shown(ns ? ns : ""),
				       gs_shown(src->id.namespace));
		return 0;
	case K8S_NS_ALLOW_LIST:
		if (!src && !plaintext_inputs && (!id.kind || strcmp(id.kind, "Secret")))
			return 0;
		if (!in_list(ns, o->ns_allow, o->ns_allow_count))
			return GS_FAIL(GS_ERR_CONFIG, "namespace '%s' is not allowed (--bind-namespace)",
				       gs_shown(ns ? ns : ""));
		return 0;
	default:
		return 0;
	}
}

/* A list object (kind: List, SecretList, ...: anything with an 'items'
 * list, as apimachinery's Unstructured.IsList reads it) is applied item by
 * item, each into its own namespace: every item that is a resource
 * (apiVersion and kind) passes the policy too, with the list's source. */
static int namespace_check(const struct k8s_render_opts *o, const struct doc_node *out,
			   const struct k8s_source_doc *src, bool plaintext_inputs, int depth)
{
	const struct doc_node *items = k8s_map_get(out, "items");
	int ret;

	if (depth == 0 && src && !src->namespace_authenticated && (ret = k8s_check_unauthenticated_kind(out)))
		return ret;
	/* a plain directory's document goes out as written: the namespace a
	 * merge key sets would be applied by the reader, unseen here */
	if (o->ns_policy != K8S_NS_ANY && depth == 0 && k8s_has_merge_key(out))
		return GS_FAIL(GS_ERR_CONFIG, "YAML merge keys ('<<') are not allowed under "
					      "--bind-namespace: Kubernetes applies them, gitseal would "
					      "not see the namespace they set");
	ret = namespace_check_one(o, out, src, plaintext_inputs);

	if (ret || o->ns_policy == K8S_NS_ANY || !items || items->kind != DOC_LIST)
		return ret;
	if (depth >= K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "lists nested too deeply");
	for (size_t i = 0; !ret && i < items->count; i++) {
		const struct doc_node *item = items->entries[i].value;
		char what[256];

		if (items->entries[i].removed || !item || item->kind != DOC_MAP ||
		    !k8s_map_str(item, "apiVersion") || !k8s_map_str(item, "kind"))
			continue;
		ret = namespace_check(o, item, src, plaintext_inputs, depth + 1);
		if (ret)
			gs_error_prefix("item %zu (%s)", i + 1, k8s_resource_name(item, what, sizeof(what)));
	}
	return ret;
}

const char *k8s_resource_name(const struct doc_node *root, char *buf, size_t cap)
{
	struct k8s_identity id;

	k8s_identity_of(root, &id);
	snprintf(buf, cap, "%s/%s", gs_shown(id.kind ? id.kind : "?"), gs_shown(id.name ? id.name : "?"));
	return buf;
}

/* ---- plain directories ---- */

/* One file of a plain directory is prepared whole on any thread: read,
 * cut into units, each encrypted unit opened through the file pipeline
 * (the MAC checked), each document checked against the namespace policy
 * (in a plain directory a document is its own source) and written by the
 * pipeline's proven emitter in the file's own layout. What it gives is
 * appended on the caller's thread, in file order: the failures as lines,
 * so they and their order are those of a file-by-file run, and the text
 * of each unit. */
struct plain_piece {
	struct gs_buf own; /* secure: a written decrypted unit */
	size_t start, len; /* or a span of the file's text (own empty) */
	size_t docs;
	size_t first_doc;
};

/* A document written out, by the object it is (Argo CD's resource key:
 * group, kind, namespace, name), to find one given twice. */
struct plain_object {
	char *key;          /* group NUL kind NUL namespace NUL name, key_len bytes */
	size_t key_len;
	const char *rel;    /* its file */
	size_t doc;         /* 1-based */
	size_t item;        /* 1-based, in a list object's items; 0: none */
	size_t order;       /* in the stream */
};

struct plain_file {
	const char *rel;
	struct gs_buf text; /* the file as read */
	struct k8s_failures lines;
	struct plain_piece *pieces;
	size_t piece_count;
	struct plain_object *objects;
	size_t object_count, object_cap;
	int fatal; /* out of memory while preparing */
};

struct plain_run {
	struct render *r;
	const struct k8s_root *dir_root;
	struct plain_file *files;
	struct plain_object *objects; /* of every file consumed, in stream order */
	size_t object_count, object_cap;
};

/* Files held prepared (their proven text) ahead of the one appended: room
 * for one thread to work on while the other is preempted (at load 10 on
 * two cores, 32 left each thread waiting a third of the run, 256 none).
 * What is held is text the stream keeps to the end anyway. */
enum { PLAIN_AHEAD = 256 };

static void plain_file_release(struct plain_file *pf)
{
	for (size_t i = 0; i < pf->piece_count; i++)
		gs_buf_release(&pf->pieces[i].own);
	free(pf->pieces);
	pf->pieces = NULL;
	pf->piece_count = 0;
	for (size_t i = 0; i < pf->object_count; i++)
		free(pf->objects[i].key);
	free(pf->objects);
	pf->objects = NULL;
	pf->object_count = pf->object_cap = 0;
	k8s_failures_release(&pf->lines);
	gs_buf_release(&pf->text);
}

/* A failure line for the unit at first_doc (0-based); the error message
 * is the current one. */
static void plain_fail(struct plain_file *pf, size_t first_doc)
{
	if (k8s_failure_add(&pf->lines, "'%s' document %zu: %s", gs_shown(pf->rel), first_doc + 1,
			    gs_error_message()))
		pf->fatal = GS_ERR_NOMEM;
}

/* The object n is, noted for the document doc (1-based) and, when it is
 * an item of a list object, its item (1-based, of the outermost list;
 * else 0). A list object (anything with an 'items' list, as
 * apimachinery's Unstructured.IsList reads it) is not applied itself:
 * each item is, as kubectl and Argo CD flatten it, nested lists too. */
static void plain_note_object(const struct render *r, struct plain_file *pf, const struct doc_node *n,
			      size_t doc, size_t item, int depth)
{
	const struct doc_node *items = k8s_map_get(n, "items");
	struct k8s_identity id;
	struct plain_object *o;
	const char *group, *slash, *ns;
	size_t glen;
	int len;

	if (items && items->kind == DOC_LIST) {
		if (depth >= K8S_MAX_DEPTH)
			return;
		for (size_t i = 0; !pf->fatal && i < items->count; i++)
			if (!items->entries[i].removed && items->entries[i].value &&
			    items->entries[i].value->kind == DOC_MAP)
				plain_note_object(r, pf, items->entries[i].value, doc, item ? item : i + 1,
						  depth + 1);
		return;
	}
	k8s_identity_of(n, &id);
	if (!id.kind || !id.name)
		return;
	group = id.api_version ? id.api_version : "";
	slash = strchr(group, '/');
	glen = slash ? (size_t)(slash - group) : 0;
	ns = id.namespace && *id.namespace ? id.namespace : r->opts->default_namespace;
	if (GS_ARRAY_GROW(pf->objects, pf->object_count, pf->object_cap, 8) < 0) {
		pf->fatal = GS_ERR_NOMEM;
		return;
	}
	o = &pf->objects[pf->object_count];
	len = gs_asprintf(&o->key, "%.*s%c%s%c%s%c%s", (int)glen, group, 0, id.kind, 0, ns ? ns : "", 0, id.name);
	if (len < 0) {
		pf->fatal = GS_ERR_NOMEM;
		return;
	}
	o->key_len = (size_t)len;
	o->rel = pf->rel;
	o->doc = doc;
	o->item = item;
	pf->object_count++;
}

/* The objects of a unit's documents that go out (those naming a kind and
 * a name; a namespace left out is where the resource lands). */
static void plain_note_objects(const struct render *r, struct plain_file *pf, const struct doc *d,
			       size_t first_doc)
{
	for (size_t b = 0; !pf->fatal && b < d->count; b++)
		plain_note_object(r, pf, d->branches[b], first_doc + b + 1, 0, 0);
}

/* The namespace policy for every document of a unit; false when one
 * failed (each failure a line). */
static bool plain_namespaces_ok(const struct render *r, struct plain_file *pf, const struct doc *d,
				size_t first_doc, const struct sops_file *f)
{
	size_t before = pf->lines.count;

	for (size_t b = 0; !pf->fatal && b < d->count; b++) {
		const struct doc_node *n = d->branches[b];
		char what[256];
		int ret;

		if (f) {
			struct k8s_source_doc src = {
				.namespace_authenticated = !sops_file_keys(f)->selection.mac_only_encrypted,
			};

			k8s_identity_of(n, &src.id);
			ret = namespace_check(r->opts, n, &src, false, 0);
			if (ret && k8s_failure_add(&pf->lines, "'%s' document %zu: %s: %s", gs_shown(pf->rel),
						   first_doc + b + 1,
						   k8s_resource_name(n, what, sizeof(what)), gs_error_message()))
				pf->fatal = GS_ERR_NOMEM;
			continue;
		}
		if ((ret = k8s_check_no_ciphertext(n)) || (ret = namespace_check(r->opts, n, NULL, false, 0)))
			plain_fail(pf, first_doc + b);
	}
	return !pf->fatal && pf->lines.count == before;
}

static void plain_unit_encrypted(const struct render *r, struct plain_file *pf, struct k8s_unit *u,
				 struct plain_piece *piece)
{
	struct sops_open_opts oo = { .format = u->doc.format, .ids = r->ids };
	struct sops_file *f = NULL;
	struct doc *plain;
	int ret = sops_file_open_doc(&u->doc, &oo, &f);

	/* out of memory is no fault of the file's (and, OpenSSL's setup
	 * failed, the same for every file): one error for the render */
	if (ret == GS_ERR_NOMEM) {
		pf->fatal = GS_ERR_NOMEM;
		return;
	}
	if (ret) {
		plain_fail(pf, u->first_doc);
		return;
	}
	plain = sops_file_doc(f);
	if (plain_namespaces_ok(r, pf, plain, u->first_doc, f)) {
		if (k8s_stream_plain_text(plain, &piece->own)) {
			plain_fail(pf, u->first_doc);
		} else {
			piece->docs = plain->count;
			plain_note_objects(r, pf, plain, u->first_doc);
		}
	}
	/* the tree is wiped now: only the proven text is held */
	sops_file_free(f);
}

/* A unit with no sops metadata is written as it is, when it holds no
 * ciphertext; one whose text does not end with a line break is written
 * again, proven (a line break added after a block scalar at its end
 * would become its text). */
static void plain_unit_clear(const struct render *r, struct plain_file *pf, struct k8s_unit *u,
			     struct plain_piece *piece)
{
	size_t len = u->span.end - u->span.start;

	if (!plain_namespaces_ok(r, pf, &u->doc, u->first_doc, NULL) || !u->doc.count)
		return;
	if (len && pf->text.data[u->span.end - 1] == '\n') {
		piece->start = u->span.start;
		piece->len = len;
	} else if (k8s_stream_plain_text(&u->doc, &piece->own)) {
		plain_fail(pf, u->first_doc);
		return;
	}
	piece->docs = u->doc.count;
	plain_note_objects(r, pf, &u->doc, u->first_doc);
}

/* Whether a piece is a span of the file's text (which is then held until
 * it is appended). */
static bool plain_borrows_text(const struct plain_file *pf)
{
	for (size_t i = 0; i < pf->piece_count; i++) {
		if (pf->pieces[i].docs && !pf->pieces[i].own.len)
			return true;
	}
	return false;
}

/* A document goes out as the file writes it, and Kubernetes's YAML reader
 * (Argo CD's) decodes a !!binary scalar, a key too, where libyaml keeps
 * its base64 text: "!!binary bmFtZXNwYWNl: tenant-b" beside "namespace:
 * tenant-a" (a label's key renamed, the MAC intact) put a Secret in
 * tenant-b that the policy saw in tenant-a. */
static int binary_tag_check(const struct render *r, const struct plain_file *pf, enum doc_format format,
			    const struct k8s_span *span)
{
	size_t line;
	int ret;

	/* JSON has no tags */
	if (r->opts->ns_policy == K8S_NS_ANY || format != DOC_FORMAT_YAML)
		return 0;
	ret = k8s_binary_tag_line(pf->text.data + span->start, span->end - span->start, &line);
	if (ret || !line)
		return ret;
	for (size_t i = 0; i < span->start; i++)
		line += pf->text.data[i] == '\n';
	return GS_FAIL(GS_ERR_CONFIG, "a !!binary tag (line %zu) is not allowed under --bind-namespace: "
				      "Kubernetes decodes it, gitseal would read its base64 text (a key "
				      "'bmFtZXNwYWNl' is the namespace there)", line);
}

static void plain_file_prepare(void *ctx, size_t item)
{
	struct plain_run *run = ctx;
	struct plain_file *pf = &run->files[item];
	enum doc_format format = store_format_for_path(pf->rel);
	struct k8s_unit *units = NULL;
	size_t count = 0, bad = 0;

	if (k8s_root_read(run->dir_root, pf->rel, &pf->text, K8S_MAX_FILE)) {
		if (k8s_failure_add(&pf->lines, "%s", gs_error_message()))
			pf->fatal = GS_ERR_NOMEM;
		goto out;
	}
	if (k8s_units_load(pf->text.data, pf->text.len, format, &units, &count, &bad)) {
		plain_fail(pf, bad - 1);
		goto out;
	}
	if (!(pf->pieces = gs_calloc(count ? count : 1, sizeof(*pf->pieces)))) {
		pf->fatal = GS_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; !pf->fatal && i < count; i++) {
		struct plain_piece *piece = &pf->pieces[pf->piece_count++];

		gs_buf_init(&piece->own, true);
		piece->first_doc = units[i].first_doc;
		if (binary_tag_check(run->r, pf, format, &units[i].span))
			plain_fail(pf, units[i].first_doc);
		else if (units[i].encrypted)
			plain_unit_encrypted(run->r, pf, &units[i], piece);
		else
			plain_unit_clear(run->r, pf, &units[i], piece);
	}
out:
	k8s_units_release(units, count);
	if (!plain_borrows_text(pf))
		gs_buf_release(&pf->text);
	gs_error_clear();
}

static int plain_file_consume(void *ctx, size_t item)
{
	struct plain_run *run = ctx;
	struct plain_file *pf = &run->files[item];
	struct render *r = run->r;
	int ret = pf->fatal ? GS_FAIL(pf->fatal, "out of memory") : 0;

	for (size_t i = 0; !ret && i < pf->lines.count; i++)
		ret = k8s_failure_add(r->fails, "%s", pf->lines.lines[i]);
	/* the objects move to the run, in stream order */
	for (size_t i = 0; !ret && i < pf->object_count; i++) {
		if ((ret = GS_ARRAY_GROW(run->objects, run->object_count, run->object_cap, 64)) < 0)
			break;
		run->objects[run->object_count] = pf->objects[i];
		run->objects[run->object_count].order = run->object_count;
		run->object_count++;
		pf->objects[i].key = NULL;
	}
	for (size_t i = 0; !ret && i < pf->piece_count; i++) {
		const struct plain_piece *piece = &pf->pieces[i];
		const uint8_t *text = piece->own.len ? piece->own.data : pf->text.data + piece->start;

		if (!piece->docs)
			continue;
		ret = k8s_stream_append(r->out, &r->out_docs, text,
					piece->own.len ? piece->own.len : piece->len, piece->docs);
		if (ret)
			ret = k8s_failure_add(r->fails, "'%s' document %zu: %s", gs_shown(pf->rel),
					      piece->first_doc + 1, gs_error_message());
	}
	/* decrypted text is wiped as soon as it is in the stream */
	plain_file_release(pf);
	return ret;
}

static int cmp_objects_key(const struct plain_object *x, const struct plain_object *y)
{
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	return c ? c : x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static int cmp_objects(const void *a, const void *b)
{
	const struct plain_object *x = a, *y = b;
	int c = cmp_objects_key(x, y);

	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

/* "'FILE' document N[ item M]" */
static void plain_object_where(const struct plain_object *o, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "'%s' document %zu", gs_shown(o->rel), o->doc);

	if (o->item && n >= 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, " item %zu", o->item);
}

/* An object given twice: Argo CD applies the last one only (with a
 * RepeatedResourceWarning), kubectl apply each in turn, the last staying;
 * kustomize refuses it. Which one a cluster gets is no reader's guess: a
 * Secret sealed in one file and given again in clear in a later one
 * replaced it unseen. One line for each repetition. */
static int plain_duplicates(struct plain_run *run)
{
	char where[PATH_MAX + 64], first_where[PATH_MAX + 64];
	int ret = 0;

	if (run->object_count > 1)
		qsort(run->objects, run->object_count, sizeof(*run->objects), cmp_objects);
	for (size_t i = 1, first = 0; !ret && i < run->object_count; i++) {
		const struct plain_object *o = &run->objects[i];
		const char *kind, *ns, *name;

		if (cmp_objects_key(&run->objects[first], o)) {
			first = i;
			continue;
		}
		kind = o->key + strlen(o->key) + 1;
		ns = kind + strlen(kind) + 1;
		name = ns + strlen(ns) + 1;
		plain_object_where(o, where, sizeof(where));
		plain_object_where(&run->objects[first], first_where, sizeof(first_where));
		ret = k8s_failure_add(run->r->fails, "%s: %s/%s (%s%s%s) is given again, first in %s: Argo CD and "
						     "kubectl apply only the last",
				      where, gs_shown(kind), gs_shown(name), *ns ? "namespace '" : "no namespace",
				      gs_shown(ns), *ns ? "'" : "", first_where);
	}
	return ret;
}

static int plain_files(struct render *r, const struct k8s_root *dir_root, char **rels, size_t count)
{
	static const struct k8s_prefetch_ops ops = { plain_file_prepare, plain_file_consume };
	struct plain_run run = { .r = r, .dir_root = dir_root };
	int ret;

	if (!count)
		return 0;
	run.files = gs_calloc(count, sizeof(*run.files));
	if (!run.files)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		run.files[i].rel = rels[i];
		gs_buf_init(&run.files[i].text, false);
	}
	ret = k8s_prefetch_run(count, PLAIN_AHEAD, &ops, &run);
	if (!ret)
		ret = plain_duplicates(&run);
	for (size_t i = 0; i < count; i++)
		plain_file_release(&run.files[i]);
	for (size_t i = 0; i < run.object_count; i++)
		free(run.objects[i].key);
	free(run.objects);
	free(run.files);
	return ret;
}

static bool manifest_name(const char *n)
{
	size_t len = strlen(n);

	return (len > 5 && !strcmp(n + len - 5, ".yaml")) || (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".json"));
}

struct name_list {
	char **items;
	size_t count;
	size_t cap;
	struct stat *seen; /* directories walked (dev, ino): a link loop is walked once */
	size_t seen_count;
};

static int list_push(struct name_list *l, char *p)
{
	if (l->count >= K8S_MAX_FILES) {
		free(p);
		return GS_FAIL(GS_ERR_LIMIT, "more than %d manifest files", K8S_MAX_FILES);
	}
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **g = gs_realloc(l->items, ncap * sizeof(*g));

		if (!g) {
			free(p);
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		l->items = g;
		l->cap = ncap;
	}
	l->items[l->count++] = p;
	return 0;
}

static bool dir_walked(struct name_list *l, const struct stat *st)
{
	struct stat *g;

	for (size_t i = 0; i < l->seen_count; i++) {
		if (l->seen[i].st_dev == st->st_dev && l->seen[i].st_ino == st->st_ino)
			return true;
	}
	g = gs_realloc(l->seen, (l->seen_count + 1) * sizeof(*g));
	if (g) {
		l->seen = g;
		l->seen[l->seen_count++] = *st;
	}
	return false;
}

/* Hidden files and directories (.git, .sops.yaml) are not manifests.
 * Links are followed only while they stay inside the directory. */
static int collect(const struct k8s_root *dir_root, const char *rel, struct name_list *l, int depth)
{
	DIR *dh;
	struct dirent *de;
	struct stat st;
	int fd, ret;

	if (depth > 64)
		return GS_FAIL(GS_ERR_LIMIT, "'%s': directories nested too deeply", gs_shown(rel));
	ret = k8s_root_open(dir_root, rel, O_RDONLY | O_DIRECTORY, &fd);
	if (ret)
		return ret;
	if (fstat(fd, &st) || dir_walked(l, &st)) {
		close(fd);
		return 0;
	}
	dh = fdopendir(fd);
	if (!dh) {
		close(fd);
		return GS_FAIL(GS_ERR_IO, "cannot read directory '%s': %s", gs_shown(rel), strerror(errno));
	}
	while (!ret && (de = readdir(dh))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = k8s_rel_join(rel, de->d_name);
		if (!p) {
			ret = GS_ERR_NOMEM;
			break;
		}
		/* a regular file in a directory walked beneath the root is inside */
		if (de->d_type == DT_REG) {
			if (manifest_name(de->d_name))
				ret = list_push(l, p);
			else
				free(p);
			continue;
		}
		ret = k8s_root_stat(dir_root, p, &st);
		if (ret == GS_ERR_NOT_FOUND) /* a dangling link: nothing to read */
			ret = 0;
		else if (!ret && S_ISDIR(st.st_mode))
			ret = collect(dir_root, p, l, depth + 1);
		else if (!ret && S_ISREG(st.st_mode) && manifest_name(de->d_name)) {
			ret = list_push(l, p);
			continue;
		}
		free(p);
	}
	closedir(dh);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A plain directory is its own root: nothing outside it is read. */
static int open_plain_dir(const struct render *r, struct k8s_root *dir_root)
{
	char *ignored = NULL, *app = strcmp(r->app_rel, ".") ? k8s_path_join(r->root.path, r->app_rel)
							      : gs_strdup(r->root.path);
	int ret;

	if (!app)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = k8s_root_open_for(app, app, dir_root, &ignored);
	free(ignored);
	free(app);
	return ret;
}

static void name_list_release(struct name_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	free(l->seen);
}

static int render_plain(struct render *r)
{
	struct k8s_root dir_root;
	struct name_list l = { 0 };
	int ret;

	if ((ret = open_plain_dir(r, &dir_root)))
		return ret;
	/* a directory that cannot be read is one failure: the rest renders */
	if ((ret = collect(&dir_root, ".", &l, 0)) && (ret = k8s_failure_add(r->fails, "%s", gs_error_message())))
		goto out;
	if (l.count)
		qsort(l.items, l.count, sizeof(*l.items), cmp_names);
	ret = plain_files(r, &dir_root, l.items, l.count);
out:
	name_list_release(&l);
	k8s_root_release(&dir_root);
	return ret;
}

/* ---- kustomizations ---- */

static bool file_exists(const struct k8s_root *root, const char *dir_rel, const char *name)
{
	struct stat st;
	char *p = k8s_rel_join(dir_rel, name);
	bool found = p && !k8s_root_stat(root, p, &st) && S_ISREG(st.st_mode);

	free(p);
	return found;
}

int k8s_render(const char *dir, const struct age_identity_list *ids,
	       const struct k8s_render_opts *opts, struct gs_buf *out, struct k8s_failures *fails)
{
	static const struct k8s_render_opts defaults = { 0 };
	struct render r = { .ids = ids, .fails = fails, .opts = opts ? opts : &defaults };
	struct gs_buf stream;
	int ret;

	ret = k8s_root_open_for(dir, r.opts->root, &r.root, &r.app_rel);
	if (ret)
		return ret;
	gs_buf_init(&stream, true);
	r.out = &stream;
	if (file_exists(&r.root, r.app_rel, "Chart.yaml"))
		ret = GS_FAIL(GS_ERR_USAGE, "'%s' is a Helm chart: use Argo CD's Helm source, with a "
					    "values file decrypted by gitseal", gs_shown(dir));
	else if (k8s_kustomization_name(&r.root, r.app_rel))
		ret = k8s_render_kustomize(&r.root, r.app_rel, r.opts, ids, fails, &stream, &r.out_docs);
	else
		ret = render_plain(&r);
	if (ret)
		goto out;
	if (fails->count) {
		ret = GS_FAIL(GS_ERR_DECRYPT_VALUE, "%zu failure%s", fails->count, fails->count == 1 ? "" : "s");
		goto out;
	}
	if (!r.out_docs && !r.opts->allow_empty) {
		ret = GS_FAIL(GS_ERR_EMPTY_INPUT, "'%s' renders no manifests (--allow-empty to accept)", gs_shown(dir));
		goto out;
	}
	/* all or nothing: the stream reaches the caller only when complete */
	ret = gs_buf_append(out, stream.data, stream.len);
out:
	k8s_root_release(&r.root);
	free(r.app_rel);
	gs_buf_release(&stream);
	return ret;
}

/* Shared with build.c. */
int k8s_render_check_namespace(const struct k8s_render_opts *opts, const struct doc_node *out,
			       const struct k8s_source_doc *src, bool plaintext_inputs)
{
	return namespace_check(opts, out, src, plaintext_inputs, 0);
}

/* ---- discovery ---- */

static bool file_is_encrypted(const struct k8s_root *root, const char *rel)
{
	enum doc_format format = store_format_for_path(rel);
	struct k8s_unit *units = NULL;
	size_t count = 0, bad = 0;
	struct gs_buf text;
	bool found = false;

	gs_buf_init(&text, false);
	if (!k8s_root_read(root, rel, &text, K8S_MAX_FILE)) {
		if (format == DOC_FORMAT_YAML || format == DOC_FORMAT_JSON) {
			if (!k8s_units_load(text.data, text.len, format, &units, &count, &bad)) {
				for (size_t i = 0; !found && i < count; i++)
					found = units[i].encrypted;
			}
			k8s_units_release(units, count);
		} else {
			struct doc d;

			doc_init(&d, format);
			found = !store_load(format, text.data, text.len, &d) && sops_doc_is_encrypted(&d);
			doc_release(&d);
		}
	}
	gs_buf_release(&text);
	return found;
}

static bool configs_use_ksops(const struct doc *d)
{
	for (size_t i = 0; i < d->count; i++) {
		if (k8s_generator_kind_ok(d->branches[i]))
			return true;
	}
	return false;
}

static bool generator_is_ksops(const struct k8s_root *root, const char *rel)
{
	struct doc d;
	bool found;

	doc_init(&d, DOC_FORMAT_YAML);
	found = !k8s_walk_load_yaml(root, rel, &d) && configs_use_ksops(&d);
	doc_release(&d);
	return found;
}

/* An inline config: KSOPS, or a builtin generator whose sources join the
 * walk's files. */
static int discover_inline(const struct k8s_root *root, struct k8s_walk *w,
			   const struct k8s_walk_inline *it, bool *found)
{
	struct doc d;
	int ret = 0;

	doc_init(&d, DOC_FORMAT_YAML);
	if (store_load(DOC_FORMAT_YAML, (const uint8_t *)it->text, strlen(it->text), &d)) {
		gs_error_clear(); /* not ours to report: the build will */
		goto out;
	}
	*found = configs_use_ksops(&d);
	for (size_t i = 0; !ret && i < d.count; i++) {
		const char *api = k8s_map_str(d.branches[i], "apiVersion");
		const char *kind = k8s_map_str(d.branches[i], "kind");

		if (api && kind && !strcmp(api, "builtin") && !strcmp(kind, "SecretGenerator"))
			ret = k8s_walk_generator_args(w, root, it->kfile, it->kdir, d.branches[i], true);
	}
out:
	doc_release(&d);
	return ret;
}

static int discover_kustomization(const struct k8s_root *root, const char *app_rel, bool *found)
{
	struct k8s_walk w;
	int ret = k8s_walk(root, app_rel, &w);

	for (size_t i = 0; !ret && !*found && i < w.inline_count; i++)
		ret = discover_inline(root, &w, &w.inlines[i], found);
	for (size_t i = 0; !ret && !*found && i < w.count; i++) {
		const struct k8s_walk_file *f = &w.files[i];

		if (f->role == K8S_FILE_GENERATOR)
			*found = generator_is_ksops(root, f->rel);
		else if (f->role != K8S_FILE_KUSTOMIZATION && f->role != K8S_FILE_OTHER)
			*found = file_is_encrypted(root, f->rel);
	}
	k8s_walk_release(&w);
	return ret;
}

/* Whether a file of a plain directory is encrypted. */
static int discover_plain(const struct render *r, bool *found)
{
	struct name_list l = { 0 };
	struct k8s_root dir_root;
	int ret;

	if ((ret = open_plain_dir(r, &dir_root)))
		return ret;
	ret = collect(&dir_root, ".", &l, 0);
	for (size_t i = 0; !ret && !*found && i < l.count; i++)
		*found = file_is_encrypted(&dir_root, l.items[i]);
	name_list_release(&l);
	k8s_root_release(&dir_root);
	return ret;
}

int k8s_discover(const char *dir, const char *root_dir, bool *found)
{
	struct render r = { 0 };
	struct k8s_failures fails = { 0 };
	int ret;

	*found = false;
	r.fails = &fails;
	ret = k8s_root_open_for(dir, root_dir, &r.root, &r.app_rel);
	if (ret)
		return ret;
	if (file_exists(&r.root, r.app_rel, "Chart.yaml")) {
		/* not ours: Argo CD's Helm source renders it */
	} else if (k8s_kustomization_name(&r.root, r.app_rel)) {
		ret = discover_kustomization(&r.root, r.app_rel, found);
	} else {
		ret = discover_plain(&r, found);
	}
	k8s_failures_release(&fails);
	k8s_root_release(&r.root);
	free(r.app_rel);
	return ret;
}
