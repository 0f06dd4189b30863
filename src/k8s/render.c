#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/io.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "k8s_int.h"

/* A part of a file that is decrypted as one sops document: the whole file
 * (JSON, or a multi-document YAML file that sops encrypted as one, every
 * document carrying the same metadata and MAC), or one YAML document. */
struct unit {
	struct k8s_span span;
	size_t first_doc; /* 0-based index of its first document */
	bool encrypted;
};

struct source {
	char *path;          /* absolute, resolved */
	struct doc *docs;    /* pairs: [2k] encrypted, [2k+1] decrypted */
	size_t doc_count;
	struct k8s_cipher_index ix;
	bool failed;
};

struct render {
	const char *root;        /* absolute, resolved DIR */
	const struct age_identity_list *ids;
	struct k8s_failures *fails;
	struct gs_buf *out;      /* secure; the stream so far */
	size_t out_docs;
	struct source *sources;
	size_t source_count;
};

static const char *display_path(const struct render *r, const char *abs)
{
	size_t n = strlen(r->root);

	if (!strncmp(abs, r->root, n) && abs[n] == '/')
		return abs + n + 1;
	return abs;
}

static int fail_doc(struct render *r, const char *file, size_t doc_index)
{
	return k8s_failure_add(r->fails, "'%s' document %zu: %s", file, doc_index + 1,
			       gs_error_message());
}

static const char *sops_mac_text(const struct doc *d)
{
	const struct doc_node *sops;

	if (!d->count)
		return NULL;
	sops = k8s_map_get(d->branches[0], "sops");
	return k8s_map_str(sops, "mac");
}

static int append_doc(struct render *r, const uint8_t *text, size_t len)
{
	int ret = 0;

	if (r->out_docs)
		ret = gs_buf_append_str(r->out, "---\n");
	if (!ret)
		ret = gs_buf_append(r->out, text, len);
	if (!ret && len && text[len - 1] != '\n')
		ret = gs_buf_append(r->out, "\n", 1);
	r->out_docs++;
	return ret;
}

/* Cuts a file into units. A parse failure is reported against the file
 * and its document, and the file is skipped. */
static int file_units(struct render *r, const char *name, const uint8_t *text, size_t len,
		      enum doc_format format, struct unit **units_out, size_t *count_out)
{
	struct k8s_span *spans = NULL;
	size_t count = 0, enc_count = 0;
	struct unit *units = NULL;
	const char *mac0 = NULL;
	bool same_mac = true;
	struct doc *docs = NULL;
	int ret;

	*units_out = NULL;
	*count_out = 0;
	if (format == DOC_FORMAT_JSON) {
		spans = malloc(sizeof(*spans));
		if (!spans)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		spans[0].start = 0;
		spans[0].end = len;
		count = k8s_text_is_blank((const char *)text, len) ? 0 : 1;
	} else {
		ret = k8s_stream_split((const char *)text, len, &spans, &count);
		if (ret)
			return k8s_failure_add(r->fails, "'%s': %s", name, gs_error_message());
	}
	units = calloc(count ? count : 1, sizeof(*units));
	docs = calloc(count ? count : 1, sizeof(*docs));
	if (!units || !docs) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		doc_init(&docs[i], format);
		ret = store_load(format, text + spans[i].start, spans[i].end - spans[i].start, &docs[i]);
		if (ret) {
			ret = fail_doc(r, name, i);
			count = i + 1;
			goto out_fail;
		}
		units[i].span = spans[i];
		units[i].first_doc = i;
		units[i].encrypted = sops_doc_is_encrypted(&docs[i]);
		if (units[i].encrypted) {
			const char *mac = sops_mac_text(&docs[i]);

			enc_count++;
			if (!mac || (mac0 && strcmp(mac, mac0)))
				same_mac = false;
			if (!mac0)
				mac0 = mac;
		}
	}
	if (count > 1 && enc_count == count && same_mac) {
		units[0].span.start = 0;
		units[0].span.end = len;
		count = 1;
	}
	*units_out = units;
	*count_out = count;
	units = NULL;
	ret = 0;
	goto out;
out_fail:
	free(units);
	units = NULL;
	*count_out = 0;
out:
	for (size_t i = 0; docs && i < count; i++)
		doc_release(&docs[i]);
	free(docs);
	free(units);
	free(spans);
	return ret;
}

/* Plain mode: one file's documents, decrypted where they are encrypted. */
static int render_file(struct render *r, const char *abs)
{
	const char *name = display_path(r, abs);
	enum doc_format format = store_format_for_path(abs);
	struct sops_decrypt_opts o = { .ignore_mac = false };
	struct gs_buf text, plain;
	struct unit *units = NULL;
	size_t count = 0;
	int ret;

	gs_buf_init(&text, false);
	gs_buf_init(&plain, true);
	ret = gs_read_file(abs, &text, K8S_MAX_FILE);
	if (ret) {
		ret = k8s_failure_add(r->fails, "'%s': %s", name, gs_error_message());
		goto out;
	}
	ret = file_units(r, name, text.data, text.len, format, &units, &count);
	for (size_t i = 0; !ret && i < count; i++) {
		const uint8_t *p = text.data + units[i].span.start;
		size_t n = units[i].span.end - units[i].span.start;
		struct k8s_span *spans = NULL;
		size_t nspans = 0;

		if (!units[i].encrypted) {
			ret = append_doc(r, p, n);
			continue;
		}
		gs_buf_reset(&plain);
		ret = sops_file_decrypt(p, n, format, r->ids, &o, &plain);
		if (ret) {
			ret = fail_doc(r, name, units[i].first_doc);
			continue;
		}
		if (format == DOC_FORMAT_JSON) {
			ret = append_doc(r, plain.data, plain.len);
			continue;
		}
		ret = k8s_stream_split((const char *)plain.data, plain.len, &spans, &nspans);
		for (size_t k = 0; !ret && k < nspans; k++)
			ret = append_doc(r, plain.data + spans[k].start, spans[k].end - spans[k].start);
		free(spans);
	}
out:
	free(units);
	gs_buf_release(&plain);
	gs_buf_release(&text);
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
};

/* Hidden files and directories (.git, .sops.yaml) are not manifests. */
static int collect(const char *dir, struct name_list *l, int depth)
{
	DIR *dh;
	struct dirent *de;
	int ret = 0;

	if (depth > 64)
		return GS_FAIL(GS_ERR_LIMIT, "'%s': directories nested too deeply", dir);
	dh = opendir(dir);
	if (!dh)
		return GS_FAIL(GS_ERR_IO, "cannot read directory '%s': %s", dir, strerror(errno));
	while (!ret && (de = readdir(dh))) {
		struct stat st;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = k8s_path_join(dir, de->d_name);
		if (!p) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		if (stat(p, &st)) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			ret = collect(p, l, depth + 1);
			free(p);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !manifest_name(de->d_name)) {
			free(p);
			continue;
		}
		if (l->count >= K8S_MAX_FILES) {
			free(p);
			ret = GS_FAIL(GS_ERR_LIMIT, "more than %d manifest files", K8S_MAX_FILES);
			break;
		}
		if (l->count == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 64;
			char **g = realloc(l->items, ncap * sizeof(*g));

			if (!g) {
				free(p);
				ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
				break;
			}
			l->items = g;
			l->cap = ncap;
		}
		l->items[l->count++] = p;
	}
	closedir(dh);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int render_plain(struct render *r)
{
	struct name_list l = { 0 };
	int ret = collect(r->root, &l, 0);

	if (!ret)
		qsort(l.items, l.count, sizeof(*l.items), cmp_names);
	for (size_t i = 0; !ret && i < l.count; i++)
		ret = render_file(r, l.items[i]);
	for (size_t i = 0; i < l.count; i++)
		free(l.items[i]);
	free(l.items);
	return ret;
}

/* ---- kustomize ---- */

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

static int split_words(const char *cmd, char ***argv_out, size_t *argc_out)
{
	char **argv = NULL;
	size_t argc = 0;
	const char *p = cmd;

	while (*p) {
		const char *s;
		char **g;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		g = realloc(argv, (argc + 3) * sizeof(*g));
		if (!g)
			goto nomem;
		argv = g;
		argv[argc] = strndup(s, (size_t)(p - s));
		if (!argv[argc])
			goto nomem;
		argc++;
	}
	if (!argc) {
		free(argv);
		return GS_FAIL(GS_ERR_USAGE, "empty kustomize command");
	}
	*argv_out = argv;
	*argc_out = argc;
	return 0;
nomem:
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

/* Runs the build with its output captured (secure: a build may run
 * generators that print plaintext). Its stderr is the user's. */
static int run_build(char **argv, const char *cwd, struct gs_buf *out)
{
	int fds[2], status = 0, ret = 0;
	pid_t pid;

	if (pipe(fds))
		return GS_FAIL(GS_ERR_IO, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return GS_FAIL(GS_ERR_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0 || chdir(cwd))
			_exit(127);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		uint8_t buf[65536];
		ssize_t n = read(fds[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!ret && out->len + (size_t)n > K8S_MAX_FILE)
			ret = GS_FAIL(GS_ERR_LIMIT, "kustomize output larger than %d bytes", K8S_MAX_FILE);
		if (!ret)
			ret = gs_buf_append(out, buf, (size_t)n);
		sodium_memzero(buf, sizeof(buf));
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret)
		return ret;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return GS_FAIL(GS_ERR_IO, "cannot run '%s'", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return GS_FAIL(GS_ERR_GENERIC, "'%s' failed (exit status %d)", argv[0],
			       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* The origin annotation kustomize writes: "path: <file>" (plus "repo:" and
 * "ref:" for remote bases, which cannot be verified here). */
static int origin_path(const struct doc_node *origin, char **path_out)
{
	const char *t, *p, *e;

	*path_out = NULL;
	if (!origin || origin->kind != DOC_SCALAR || origin->type != DOC_STR)
		return GS_FAIL(GS_ERR_PARSE, "no origin annotation");
	t = origin->text;
	if (strstr(t, "repo:"))
		return GS_FAIL(GS_ERR_PARSE, "resource comes from a remote base");
	p = strstr(t, "path:");
	if (!p || (p != t && p[-1] != '\n'))
		return GS_FAIL(GS_ERR_PARSE, "origin annotation has no path");
	p += 5;
	while (*p == ' ')
		p++;
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	while (e > p && e[-1] == ' ')
		e--;
	if (e == p)
		return GS_FAIL(GS_ERR_PARSE, "origin annotation has no path");
	if (*p == '"' || *p == '\'')
		return GS_FAIL(GS_ERR_PARSE, "quoted origin paths are not supported");
	*path_out = strndup(p, (size_t)(e - p));
	return *path_out ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

static void source_release(struct source *s)
{
	k8s_cipher_index_release(&s->ix);
	for (size_t i = 0; i < s->doc_count; i++)
		doc_release(&s->docs[i]);
	free(s->docs);
	free(s->path);
}

/* Decrypts a source file as written in Git, which checks every MAC, and
 * indexes its ciphertexts. A failure is reported once, against the file. */
static int source_load(struct render *r, struct source *s)
{
	const char *name = display_path(r, s->path);
	enum doc_format format = store_format_for_path(s->path);
	struct sops_decrypt_opts o = { .ignore_mac = false };
	struct gs_buf text;
	struct unit *units = NULL;
	size_t count = 0, before = r->fails->count;
	int ret;

	k8s_cipher_index_init(&s->ix);
	gs_buf_init(&text, false);
	ret = gs_read_file(s->path, &text, K8S_MAX_FILE);
	if (ret) {
		ret = k8s_failure_add(r->fails, "'%s': %s", name, gs_error_message());
		goto out;
	}
	ret = file_units(r, name, text.data, text.len, format, &units, &count);
	if (!ret && count) {
		s->docs = calloc(2 * count, sizeof(*s->docs));
		if (!s->docs)
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < count; i++) {
		const uint8_t *p = text.data + units[i].span.start;
		size_t n = units[i].span.end - units[i].span.start;
		struct doc *enc = &s->docs[2 * i], *dec = &s->docs[2 * i + 1];

		if (!units[i].encrypted)
			continue;
		doc_init(enc, format);
		doc_init(dec, format);
		s->doc_count = 2 * i + 2;
		ret = store_load(format, p, n, enc);
		if (!ret)
			ret = store_load(format, p, n, dec);
		if (!ret)
			ret = sops_decrypt_doc(dec, r->ids, &o);
		for (size_t b = 0; !ret && b < enc->count && b < dec->count; b++)
			ret = k8s_cipher_index_add(&s->ix, enc->branches[b], dec->branches[b]);
		if (ret)
			ret = fail_doc(r, name, units[i].first_doc);
	}
out:
	if (r->fails->count > before)
		s->failed = true;
	free(units);
	gs_buf_release(&text);
	return ret;
}

static int source_get(struct render *r, const char *abs, struct source **out)
{
	struct source *g;
	int ret;

	for (size_t i = 0; i < r->source_count; i++) {
		if (!strcmp(r->sources[i].path, abs)) {
			*out = &r->sources[i];
			return 0;
		}
	}
	g = realloc(r->sources, (r->source_count + 1) * sizeof(*g));
	if (!g)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->sources = g;
	g = &r->sources[r->source_count];
	memset(g, 0, sizeof(*g));
	g->path = strdup(abs);
	if (!g->path)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->source_count++;
	ret = source_load(r, g);
	*out = g;
	return ret;
}

static const char *resource_name(const struct doc_node *root, char *buf, size_t cap)
{
	const char *kind = k8s_map_str(root, "kind");
	const char *name = k8s_map_str(k8s_map_get(root, "metadata"), "name");

	snprintf(buf, cap, "%s/%s", kind ? kind : "?", name ? name : "?");
	return buf;
}

static int built_resource(struct render *r, const char *wrap_dir, size_t index, const uint8_t *text,
			  size_t len)
{
	struct doc d;
	struct gs_buf emitted;
	char *rel = NULL, *joined = NULL, abs[PATH_MAX], what[256], bad[512];
	struct source *src = NULL;
	bool encrypted;
	int ret;

	doc_init(&d, DOC_FORMAT_YAML);
	gs_buf_init(&emitted, true);
	ret = store_load(DOC_FORMAT_YAML, text, len, &d);
	if (ret) {
		ret = k8s_failure_add(r->fails, "kustomize output document %zu: %s", index + 1,
				      gs_error_message());
		goto out;
	}
	if (!d.count || d.branches[0]->kind != DOC_MAP)
		goto out;
	encrypted = sops_doc_is_encrypted(&d);
	resource_name(d.branches[0], what, sizeof(what));
	const struct doc_node *origin = k8s_resource_strip(d.branches[0]);

	if (encrypted) {
		ret = origin_path(origin, &rel);
		if (!ret) {
			joined = k8s_path_join(wrap_dir, rel);
			if (!joined)
				ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			else if (!realpath(joined, abs))
				ret = GS_FAIL(GS_ERR_NOT_FOUND, "source '%s' not found", rel);
		}
		if (ret) {
			ret = k8s_failure_add(r->fails, "resource %s (document %zu): %s", what, index + 1,
					      gs_error_message());
			goto out;
		}
		ret = source_get(r, abs, &src);
		if (ret || src->failed)
			goto out; /* already reported against the source */
		ret = k8s_resource_decrypt(&d, d.branches[0], &src->ix, bad, sizeof(bad));
		if (ret) {
			ret = k8s_failure_add(r->fails, "'%s' resource %s (document %zu): %s",
					      display_path(r, abs), what, index + 1, gs_error_message());
			goto out;
		}
	}
	ret = k8s_yaml_emit(d.branches[0], &emitted);
	if (!ret)
		ret = append_doc(r, emitted.data, emitted.len);
out:
	free(rel);
	free(joined);
	gs_buf_release(&emitted);
	doc_release(&d);
	return ret;
}

static int write_wrapper(const char *wrap_dir, const char *root)
{
	char rel[PATH_MAX * 2] = "";
	size_t depth = 0;
	struct gs_buf text;
	char *path;
	int ret;

	/* kustomize refuses absolute resource paths: go up from the wrapper */
	for (const char *p = wrap_dir; *p; p++)
		depth += *p == '/';
	for (size_t i = 0; i < depth; i++)
		strcat(rel, "../");
	if (strlen(rel) + strlen(root) >= sizeof(rel))
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	strcat(rel, root + 1);
	if (strpbrk(rel, "\"\\\n"))
		return GS_FAIL(GS_ERR_USAGE, "unsupported character in the directory path");
	gs_buf_init(&text, false);
	ret = gs_buf_printf(&text,
			    "apiVersion: kustomize.config.k8s.io/v1beta1\n"
			    "kind: Kustomization\n"
			    "resources:\n- \"%s\"\n"
			    "buildMetadata:\n- originAnnotations\n", rel);
	path = k8s_path_join(wrap_dir, "kustomization.yaml");
	if (!path)
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!ret)
		ret = gs_atomic_write(path, text.data, text.len, 0600);
	free(path);
	gs_buf_release(&text);
	return ret;
}

static int render_kustomize(struct render *r, const struct k8s_render_opts *opts)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX], wrap_dir[PATH_MAX], *kfile = NULL;
	const char *cmd = opts ? opts->kustomize_cmd : NULL;
	char **argv = NULL;
	size_t argc = 0, count = 0;
	struct k8s_span *spans = NULL;
	struct gs_buf built;
	bool made = false;
	int ret;

	gs_buf_init(&built, true);
	if (!cmd || !*cmd)
		cmd = in_path("kustomize") ? "kustomize build" : "kubectl kustomize";
	ret = split_words(cmd, &argv, &argc);
	if (ret)
		return ret;
	if (snprintf(tmpl, sizeof(tmpl), "%s/gitseal-render-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	    (int)sizeof(tmpl)) {
		ret = GS_FAIL(GS_ERR_LIMIT, "TMPDIR too long");
		goto out;
	}
	/* mkdtemp makes the directory 0700: private to this process's user */
	if (!mkdtemp(tmpl)) {
		ret = GS_FAIL(GS_ERR_IO, "cannot create a temporary directory: %s", strerror(errno));
		goto out;
	}
	made = true;
	if (!realpath(tmpl, wrap_dir)) {
		ret = GS_FAIL(GS_ERR_IO, "'%s': %s", tmpl, strerror(errno));
		goto out;
	}
	ret = write_wrapper(wrap_dir, r->root);
	if (ret)
		goto out;
	argv[argc++] = wrap_dir;
	argv[argc] = NULL;
	ret = run_build(argv, r->root, &built);
	argc--;
	if (ret) {
		ret = k8s_failure_add(r->fails, "'%s': kustomize build: %s", ".", gs_error_message());
		goto out;
	}
	ret = k8s_stream_split((const char *)built.data, built.len, &spans, &count);
	for (size_t i = 0; !ret && i < count; i++)
		ret = built_resource(r, wrap_dir, i, built.data + spans[i].start,
				     spans[i].end - spans[i].start);
out:
	if (made) {
		kfile = k8s_path_join(tmpl, "kustomization.yaml");
		if (kfile)
			unlink(kfile);
		free(kfile);
		rmdir(tmpl);
	}
	free(spans);
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	gs_buf_release(&built);
	return ret;
}

static bool has_kustomization(const char *root)
{
	static const char *const names[] = { "kustomization.yaml", "kustomization.yml", "Kustomization" };

	for (size_t i = 0; i < 3; i++) {
		char *p = k8s_path_join(root, names[i]);
		bool found = p && access(p, F_OK) == 0;

		free(p);
		if (found)
			return true;
	}
	return false;
}

int k8s_render(const char *dir, const struct age_identity_list *ids,
	       const struct k8s_render_opts *opts, struct gs_buf *out, struct k8s_failures *fails)
{
	struct render r = { .ids = ids, .fails = fails };
	char root[PATH_MAX];
	struct gs_buf stream;
	int ret;

	if (!realpath(dir, root))
		return GS_FAIL(GS_ERR_NOT_FOUND, "'%s': %s", dir, strerror(errno));
	gs_buf_init(&stream, true);
	r.root = root;
	r.out = &stream;
	ret = has_kustomization(root) ? render_kustomize(&r, opts) : render_plain(&r);
	if (!ret && fails->count)
		ret = GS_FAIL(GS_ERR_DECRYPT_VALUE, "%zu failure%s", fails->count,
			      fails->count == 1 ? "" : "s");
	/* all or nothing: the stream reaches the caller only when complete */
	if (!ret)
		ret = gs_buf_append(out, stream.data, stream.len);
	for (size_t i = 0; i < r.source_count; i++)
		source_release(&r.sources[i]);
	free(r.sources);
	gs_buf_release(&stream);
	return ret;
}
