/* HashiCorp Vault transit client over libcurl (sops hcvault/keysource.go).
 * Plaintext key material and the token only ever sit in secure buffers on
 * our side; libcurl copies the header and body into its own memory, which
 * we cannot wipe (documented in docs/vault.md). */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/base64.h"
#include "gitseal/error.h"
#include "keysrc_int.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitseal/vault.h"

enum {
	VAULT_MAX_RESPONSE = 1 << 20,
	VAULT_DEFAULT_TIMEOUT = 30,
};

/* ---- keys ---- */

void vault_key_release(struct vault_key *k)
{
	free(k->address);
	free(k->engine_path);
	free(k->key_name);
	memset(k, 0, sizeof(*k));
}

/* Vault path parts come from a file's metadata, outside the MAC: only a
 * safe character set, so that a tampered file cannot point a request (and
 * the token) at another endpoint of the trusted Vault (sys/..., auth/...).
 * Segments of letters, digits, '-', '_' and '.', not "." or ".."; the
 * engine path may hold several, joined by single '/'. */
static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.';
}

static bool path_ok(const char *s, bool segments)
{
	const char *seg = s;

	for (const char *p = s;; p++) {
		if (*p == '/' && !segments)
			return false;
		if (*p == '/' || !*p) {
			size_t n = (size_t)(p - seg);

			if (!n || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (!*p)
				return true;
			seg = p + 1;
		} else if (!path_char_ok(*p)) {
			return false;
		}
	}
}

int vault_key_init(struct vault_key *k, const char *address, const char *engine_path,
		   const char *key_name)
{
	size_t alen;

	memset(k, 0, sizeof(*k));
	if (!address || !*address || !engine_path || !*engine_path || !key_name || !*key_name)
		return GS_FAIL(GS_ERR_KEY, "vault key: address, engine path and key name are required");
	if (!path_ok(engine_path, true))
		return GS_FAIL(GS_ERR_KEY, "vault key: invalid engine_path '%s' (letters, digits, '-', '_', "
					   "'.', and '/' between segments)", gs_shown(engine_path));
	if (!path_ok(key_name, false))
		return GS_FAIL(GS_ERR_KEY, "vault key: invalid key_name '%s' (letters, digits, '-', '_', '.')",
			       gs_shown(key_name));
	alen = strlen(address);
	while (alen && address[alen - 1] == '/')
		alen--;
	/* "/" names no Vault: an empty address would not be one */
	if (!alen)
		return GS_FAIL(GS_ERR_KEY, "vault key: address, engine path and key name are required");
	k->address = gs_strndup(address, alen);
	k->engine_path = gs_strdup(engine_path);
	k->key_name = gs_strdup(key_name);
	if (!k->address || !k->engine_path || !k->key_name) {
		vault_key_release(k);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Appends s percent-encoded (RFC 3986: all but unreserved characters; with
 * keep_slash, '/' stays a separator). */
static int append_escaped(struct gs_buf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int ret = 0;

	for (; *s && ret == 0; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (path_char_ok((char)c) || c == '~' || (keep_slash && c == '/'))
			ret = gs_buf_append(b, s, 1);
		else
			ret = gs_buf_append(b, esc, 3);
	}
	return ret;
}

char *vault_transit_url(const struct vault_key *k, const char *op)
{
	struct gs_buf b;

	gs_buf_init(&b, false);
	if (gs_buf_append_str(&b, k->address) < 0 || gs_buf_append_str(&b, "/v1/") < 0 ||
	    append_escaped(&b, k->engine_path, true) < 0 || gs_buf_append_str(&b, "/") < 0 ||
	    append_escaped(&b, op, false) < 0 || gs_buf_append_str(&b, "/") < 0 ||
	    append_escaped(&b, k->key_name, false) < 0) {
		gs_buf_release(&b);
		return NULL;
	}
	return (char *)gs_buf_detach(&b, NULL);
}

int vault_key_parse_uri(const char *uri, struct vault_key *out)
{
	const char *path, *keys, *env = NULL, *scheme_end;
	char *address = NULL, *engine = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!uri || !*uri)
		return GS_FAIL(GS_ERR_KEY, "empty vault transit uri");
	if (!strncmp(uri, "/v1/", 4)) {
		env = getenv("VAULT_ADDR");
		if (!env || !*env)
			return GS_FAIL(GS_ERR_KEY, "vault uri '%s' has no address and VAULT_ADDR is not set",
				       gs_shown(uri));
		path = uri;
		address = gs_strdup(env);
	} else {
		if (strncmp(uri, "https://", 8) && strncmp(uri, "http://", 7))
			return GS_FAIL(GS_ERR_KEY, "vault uri '%s': expected https://HOST/v1/ENGINE/keys/NAME",
				       gs_shown(uri));
		scheme_end = strstr(uri, "://") + 3;
		path = strchr(scheme_end, '/');
		if (!path || path == scheme_end)
			return GS_FAIL(GS_ERR_KEY, "vault uri '%s': expected https://HOST/v1/ENGINE/keys/NAME",
				       gs_shown(uri));
		address = gs_strndup(uri, (size_t)(path - uri));
	}
	if (!address)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* sops: the path is /v1/<engine path>/keys/<key name> */
	keys = NULL;
	for (const char *p = strstr(path, "/keys/"); p; p = strstr(p + 1, "/keys/"))
		keys = p;
	if (strncmp(path, "/v1/", 4) || !keys || keys < path + 4 || !keys[6] ||
	    strchr(keys + 6, '/') || strpbrk(path, "?#")) {
		free(address);
		return GS_FAIL(GS_ERR_KEY, "vault uri '%s': expected https://HOST/v1/ENGINE/keys/NAME", gs_shown(uri));
	}
	engine = gs_strndup(path + 4, (size_t)(keys - (path + 4)));
	if (!engine) {
		free(address);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	ret = vault_key_init(out, address, engine, keys + 6);
	free(address);
	free(engine);
	return ret;
}

char *vault_key_uri(const struct vault_key *k)
{
	char *s = NULL;

	if (gs_asprintf(&s, "%s/v1/%s/keys/%s", k->address, k->engine_path, k->key_name) < 0)
		return NULL;
	return s;
}

/* ---- the response: JSON, read with the JSON store (its document lives
 * in secure memory: data.plaintext is a data key) ---- */

/* The string at data.<field>, or NULL. */
static const struct doc_node *data_field(const struct doc *d, const char *field)
{
	const struct doc_node *root = d->count ? d->branches[0] : NULL;
	const struct doc_entry *data = root && root->kind == DOC_MAP ? doc_map_find(root, "data") : NULL;
	const struct doc_entry *e = data && data->value->kind == DOC_MAP ? doc_map_find(data->value, field)
									 : NULL;

	return e && e->value->kind == DOC_SCALAR && e->value->type == DOC_STR && e->value->len
		       ? e->value
		       : NULL;
}

int vault_response_field(const char *json, size_t len, const char *field, struct gs_buf *out)
{
	const struct doc_node *v = NULL;
	struct doc d;
	int ret;

	doc_init(&d, DOC_FORMAT_JSON);
	if ((ret = store_load(DOC_FORMAT_JSON, (const uint8_t *)json, len, &d)) == 0)
		v = data_field(&d, field);
	if (ret == GS_ERR_NOMEM) /* it says nothing of the response */
		goto out;
	gs_error_clear();
	ret = v ? gs_buf_append(out, v->text, v->len)
		: GS_FAIL(GS_ERR_PARSE, "vault response has no string data.%s", field);
out:
	doc_release(&d);
	return ret;
}

/* The first entry of "errors", for messages (Vault's own text, never a
 * secret), printable ASCII only and shortened. */
static void response_error(const char *json, size_t len, char *msg, size_t cap)
{
	const struct doc_entry *errors = NULL;
	const struct doc_node *first = NULL;
	struct doc d;
	size_t n = 0;

	doc_init(&d, DOC_FORMAT_JSON);
	if (store_load(DOC_FORMAT_JSON, (const uint8_t *)json, len, &d) == 0 && d.count &&
	    d.branches[0]->kind == DOC_MAP)
		errors = doc_map_find(d.branches[0], "errors");
	gs_error_clear();
	if (errors && errors->value->kind == DOC_LIST && errors->value->count)
		first = errors->value->entries[0].value;
	if (first && first->kind == DOC_SCALAR && first->type == DOC_STR)
		for (size_t i = 0; i < first->len && n + 1 < cap && n < 160; i++)
			msg[n++] = isprint((unsigned char)first->text[i]) ? first->text[i] : '?';
	msg[n] = '\0';
	doc_release(&d);
}

/* ---- HTTP ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init(void)
{
	if (keysrc_libcurl_load() == 0)
		curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A reply's body as it arrives; nomem: it could not be kept (curl then
 * reports a write error, which is no fault of the server's). */
struct reply {
	struct gs_buf *body;
	bool nomem;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	size_t n = size * nmemb;

	if (r->body->len + n > VAULT_MAX_RESPONSE)
		return 0;
	if (gs_buf_append(r->body, ptr, n) < 0) {
		r->nomem = true;
		return 0;
	}
	return n;
}

static int read_token(struct gs_buf *token)
{
	const char *env = getenv("VAULT_TOKEN"), *home = getenv("HOME");
	struct gs_buf file;
	char *path = NULL;
	int ret;

	if (env && *env)
		return gs_buf_append_str(token, env);
	if (!home || !*home || gs_asprintf(&path, "%s/.vault-token", home) < 0)
		return GS_FAIL(GS_ERR_KEY, "no vault token: set VAULT_TOKEN or write ~/.vault-token");
	gs_buf_init(&file, true);
	ret = gs_read_file(path, &file, 64 * 1024);
	free(path);
	if (ret < 0) {
		gs_buf_release(&file);
		return GS_FAIL(GS_ERR_KEY, "no vault token: set VAULT_TOKEN or write ~/.vault-token");
	}
	while (file.len && isspace(file.data[file.len - 1]))
		file.len--;
	ret = file.len ? gs_buf_append(token, file.data, file.len)
		       : GS_FAIL(GS_ERR_KEY, "no vault token: ~/.vault-token is empty");
	gs_buf_release(&file);
	return ret;
}

static bool is_loopback(const char *address)
{
	static const char *const hosts[] = { "http://127.0.0.1", "http://localhost", "http://[::1]" };

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t n = strlen(hosts[i]);

		if (!strncmp(address, hosts[i], n) && (address[n] == '\0' || address[n] == ':'))
			return true;
	}
	return false;
}

/* An address in comparable form: scheme and host in lower case, no default
 * port, no trailing slash. Returns false when it does not fit in out. */
static bool canonical_address(const char *a, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	const char *host, *port;

	while (len && (a[len - 1] == '/' || a[len - 1] == ' '))
		len--;
	while (len && *a == ' ') {
		a++;
		len--;
	}
	if (len >= cap)
		return false;
	for (size_t i = 0; i < len; i++)
		out[n++] = (char)(a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i]);
	out[n] = '\0';
	host = strstr(out, "://");
	port = host ? strrchr(host + 3, ':') : NULL;
	if (port && !strchr(port, ']') &&
	    ((!strncmp(out, "https://", 8) && !strcmp(port, ":443")) ||
	     (!strncmp(out, "http://", 7) && !strcmp(port, ":80"))))
		out[port - out] = '\0';
	return true;
}

/* The token goes only to a Vault the user named: one of GITSEAL_VAULT_ADDRS
 * (comma-separated), else VAULT_ADDR. The address in a file's metadata
 * alone is not trusted: a tampered file could name any host and receive
 * the token (sops sends it there). */
static int check_trusted(const char *address)
{
	const char *list = getenv("GITSEAL_VAULT_ADDRS"), *name = "GITSEAL_VAULT_ADDRS";
	char want[512], have[512];

	if (!list || !*list) {
		list = getenv("VAULT_ADDR");
		name = "VAULT_ADDR";
	}
	if (!list || !*list)
		return GS_FAIL(GS_ERR_KEY, "vault address '%s' is not trusted: set VAULT_ADDR (or "
					   "GITSEAL_VAULT_ADDRS) to it to send it the token", gs_shown(address));
	if (!canonical_address(address, strlen(address), want, sizeof(want)))
		return GS_FAIL(GS_ERR_KEY, "vault address too long");
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (canonical_address(p, len, have, sizeof(have)) && !strcmp(have, want))
			return 0;
		p += len + (comma ? 1 : 0);
	}
	return GS_FAIL(GS_ERR_KEY, "vault address '%s' is not trusted: it is not in %s", gs_shown(address), name);
}

static long timeout_seconds(void)
{
	const char *env = getenv("GITSEAL_VAULT_TIMEOUT");
	char *end;
	long v;

	if (!env || !*env)
		return VAULT_DEFAULT_TIMEOUT;
	v = strtol(env, &end, 10);
	return *end || v <= 0 || v > 3600 ? VAULT_DEFAULT_TIMEOUT : v;
}

/* Where a request may go: https (or a loopback address), a Vault the
 * user named, and a path of safe names (checked again here: a key may
 * have been made without vault_key_init). */
static int check_destination(const struct vault_key *k)
{
	int ret;

	if (strncmp(k->address, "https://", 8) && !is_loopback(k->address))
		return GS_FAIL(GS_ERR_KEY, "vault address '%s': plain http is only allowed for loopback "
					   "addresses", gs_shown(k->address));
	if ((ret = check_trusted(k->address)))
		return ret;
	if (!path_ok(k->engine_path, true) || !path_ok(k->key_name, false))
		return GS_FAIL(GS_ERR_KEY, "vault key: invalid engine path or key name");
	return 0;
}

static int add_header(struct curl_slist **headers, const char *line)
{
	struct curl_slist *h = curl_slist_append(*headers, line);

	if (!h)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*headers = h;
	return 0;
}

/* The token, the content type and VAULT_NAMESPACE as request headers
 * (libcurl keeps its own copy of the token line, which we cannot wipe). */
static int request_headers(struct curl_slist **headers)
{
	const char *ns = getenv("VAULT_NAMESPACE");
	struct gs_buf token, line;
	int ret;

	gs_buf_init(&token, true);
	gs_buf_init(&line, true);
	if ((ret = read_token(&token)) < 0 || (ret = gs_buf_append_str(&line, "X-Vault-Token: ")) < 0 ||
	    (ret = gs_buf_append(&line, token.data, token.len)) < 0 ||
	    (ret = add_header(headers, (const char *)line.data)) < 0 ||
	    (ret = add_header(headers, "Content-Type: application/json")) < 0)
		goto out;
	if (ns && *ns) {
		gs_buf_reset(&line);
		if ((ret = gs_buf_printf(&line, "X-Vault-Namespace: %s", ns)) < 0 ||
		    (ret = add_header(headers, (const char *)line.data)) < 0)
			goto out;
	}
out:
	gs_buf_release(&token);
	gs_buf_release(&line);
	return ret;
}

/* A POST of body to url, no redirect, TLS verified, http(s) only, the
 * reply into response (at most VAULT_MAX_RESPONSE bytes). */
static void set_request(CURL *curl, const char *url, struct curl_slist *headers, const struct gs_buf *body,
			struct reply *response)
{
	const char *ca = getenv("VAULT_CACERT");

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body->data);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body->len);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds());
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (ca && *ca)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
}

/* POSTs body to {address}/v1/{engine}/{op}/{key}; response gets the body of a 2xx reply. */
static int transit_call(const struct vault_key *k, const char *op, const struct gs_buf *body,
			struct gs_buf *response)
{
	struct curl_slist *headers = NULL;
	char *url = NULL, msg[192];
	long status = 0;
	CURL *curl = NULL;
	struct reply reply = { response, false };
	CURLcode rc;
	int ret;

	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return GS_FAIL(GS_ERR_KEY, "cannot initialise libcurl (is it installed?)");
	if ((ret = check_destination(k)) < 0 || (ret = request_headers(&headers)) < 0)
		goto out;
	if (!(url = vault_transit_url(k, op))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!(curl = curl_easy_init())) {
		ret = GS_FAIL(GS_ERR_NOMEM, "cannot create a curl handle");
		goto out;
	}
	set_request(curl, url, headers, body, &reply);
	if ((rc = curl_easy_perform(curl)) != CURLE_OK) {
		ret = reply.nomem ? GS_FAIL(GS_ERR_NOMEM, "out of memory")
				  : GS_FAIL(GS_ERR_KEY, "vault '%s': %s", gs_shown(k->address), curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		response_error((const char *)response->data, response->len, msg, sizeof(msg));
		ret = GS_FAIL(GS_ERR_KEY, "vault '%s': %s of key '%s' failed with HTTP %ld%s%s",
			      gs_shown(k->address), op, gs_shown(k->key_name), status, msg[0] ? ": " : "", msg);
	}
out:
	if (curl)
		curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	free(url);
	return ret;
}

int vault_encrypt(const struct vault_key *k, const uint8_t *plain, size_t len, struct gs_buf *ciphertext)
{
	struct gs_buf body, response;
	int ret;

	gs_buf_init(&body, true);
	gs_buf_init(&response, true);
	if ((ret = gs_buf_append_str(&body, "{\"plaintext\":\"")) < 0 ||
	    (ret = gs_base64_append(&body, plain, len)) < 0 || (ret = gs_buf_append_str(&body, "\"}")) < 0)
		goto out;
	if ((ret = transit_call(k, "encrypt", &body, &response)) < 0)
		goto out;
	if ((ret = vault_response_field((const char *)response.data, response.len, "ciphertext",
					ciphertext)) < 0)
		goto out;
	if (strncmp((const char *)ciphertext->data, "vault:", 6))
		ret = GS_FAIL(GS_ERR_KEY, "vault '%s': unexpected ciphertext from key '%s'", gs_shown(k->address),
			      gs_shown(k->key_name));
out:
	gs_buf_release(&body);
	gs_buf_release(&response);
	return ret;
}

static bool json_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] >= 0x7F)
			return false;
	return true;
}

int vault_decrypt(const struct vault_key *k, const char *ciphertext, size_t len, struct gs_buf *plain)
{
	struct gs_buf body, response, b64;
	size_t out_len = 0;
	int ret;

	if (!json_safe(ciphertext, len) || len < 6 || strncmp(ciphertext, "vault:", 6))
		return GS_FAIL(GS_ERR_PARSE, "vault key '%s': malformed ciphertext", gs_shown(k->key_name));
	gs_buf_init(&body, false);
	gs_buf_init(&response, true);
	gs_buf_init(&b64, true);
	if ((ret = gs_buf_append_str(&body, "{\"ciphertext\":\"")) < 0 ||
	    (ret = gs_buf_append(&body, ciphertext, len)) < 0 || (ret = gs_buf_append_str(&body, "\"}")) < 0)
		goto out;
	if ((ret = transit_call(k, "decrypt", &body, &response)) < 0)
		goto out;
	if ((ret = vault_response_field((const char *)response.data, response.len, "plaintext", &b64)) < 0)
		goto out;
	gs_buf_reset(plain);
	if ((ret = gs_buf_reserve(plain, b64.len + 1)) < 0)
		goto out;
	if (gs_base64_decode_secret((const char *)b64.data, b64.len, NULL, plain->data, plain->cap - 1,
				    &out_len) != 0) {
		ret = GS_FAIL(GS_ERR_PARSE, "vault key '%s': plaintext is not base64", gs_shown(k->key_name));
		goto out;
	}
	plain->len = out_len;
	plain->data[out_len] = '\0';
out:
	gs_buf_release(&body);
	gs_buf_release(&response);
	gs_buf_release(&b64);
	return ret;
}
