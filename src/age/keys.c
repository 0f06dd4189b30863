/* Recipients and identities: parsing, lists, and the identity-file and
 * recipients-file line rules (spec §9). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"

#include "age_int.h"

#define IDENTITY_HRP "age-secret-key-"
#define IDENTITY_PREFIX "AGE-SECRET-KEY-" "1" /* HRP, then the bech32 separator */
#define RECIPIENT_HRP "age"
/* age-pq.md 2: upper-case identity, lower-case recipient, Bech32 (not m) */
#define PQ_IDENTITY_HRP "age-secret-key-pq-"
#define PQ_IDENTITY_PREFIX "AGE-SECRET-KEY-PQ-" "1"
#define PQ_RECIPIENT_HRP "age1pq"
#define PQ_RECIPIENT_PREFIX PQ_RECIPIENT_HRP "1"

enum {
	KEY_FILE_MAX = 16 * 1024 * 1024,
	RECIPIENT_LINE_MAX = 8 * 1024,
};

struct age_recipient *age_recipient_new(enum age_key_type type)
{
	struct age_recipient *r = gs_calloc(1, sizeof(*r));

	if (r)
		r->type = type;
	return r;
}

void age_recipient_free(struct age_recipient *r)
{
	if (!r)
		return;
	free(r->ssh_blob);
	EVP_PKEY_free(r->rsa);
	free(r->pq_pk);
	gs_secure_free(r->passphrase);
	free(r);
}

struct age_identity *age_identity_new(enum age_key_type type, size_t secret_len)
{
	struct age_identity *id = gs_calloc(1, sizeof(*id));

	if (!id)
		return NULL;
	id->type = type;
	if (secret_len) {
		id->secret = gs_secure_alloc(secret_len);
		if (!id->secret) {
			free(id);
			return NULL;
		}
		id->secret_len = secret_len;
	}
	return id;
}

void age_identity_free(struct age_identity *id)
{
	if (!id)
		return;
	gs_secure_free(id->secret);
	free(id->ssh_blob);
	EVP_PKEY_free(id->rsa);
	mlkem768x25519_key_free(id->pq);
	age_ssh_locked_free(id->locked);
	free(id);
}

static int x25519_recipient_parse(const char *text, struct age_recipient **out)
{
	char hrp[64];
	uint8_t data[64];
	size_t n;
	struct age_recipient *r;

	if (age_bech32_decode(text, hrp, sizeof(hrp), data, sizeof(data), &n) != 0)
		return GS_FAIL(GS_ERR_PARSE, "malformed age1 recipient");
	if (strcmp(hrp, RECIPIENT_HRP) != 0)
		return GS_FAIL(GS_ERR_KEY, "plugin recipients are not supported");
	if (n != 32)
		return GS_FAIL(GS_ERR_PARSE, "malformed age1 recipient: wrong key length");
	r = age_recipient_new(AGE_KEY_X25519);
	if (!r)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(r->pk, data, 32);
	*out = r;
	return 0;
}

/* age-pq.md 2.3: 1216 bytes, and an ML-KEM key that fails the modulus
 * check is refused here, as Go age does, so it is never used. */
static int pq_recipient_parse(const char *text, struct age_recipient **out)
{
	char hrp[16];
	uint8_t *data = gs_malloc(MLKEM768X25519_PK_SIZE);
	size_t n;
	struct age_recipient *r;
	int ret = 0;

	if (!data)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (age_bech32_decode(text, hrp, sizeof(hrp), data, MLKEM768X25519_PK_SIZE, &n) != 0 ||
	    strcmp(hrp, PQ_RECIPIENT_HRP) != 0 || n != MLKEM768X25519_PK_SIZE)
		ret = GS_FAIL(GS_ERR_PARSE, "malformed age1pq1 recipient");
	else if (!mlkem768_ek_is_valid(data))
		ret = GS_FAIL(GS_ERR_KEY, "invalid age1pq1 recipient: its ML-KEM key fails the modulus check");
	if (ret) {
		free(data);
		return ret;
	}
	r = age_recipient_new(AGE_KEY_MLKEM768X25519);
	if (!r) {
		free(data);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	r->pq_pk = data;
	*out = r;
	return 0;
}

/* A key pasted in the wrong place ends up in error messages and CI logs:
 * an age identity (AGE-SECRET-KEY-, its PQ- form, AGE-PLUGIN-), in either
 * case (bech32 is case-blind), and PEM or OpenSSH private keys, anywhere
 * in text (a comma-separated list). */
bool age_recipient_text_is_secret(const char *text)
{
	for (const char *s = text; *s; s++)
		if (!strncasecmp(s, "AGE-SECRET-KEY-", 15) || !strncasecmp(s, "AGE-PLUGIN-", 11) ||
		    !strncmp(s, "PRIVATE KEY", 11))
			return true;
	return false;
}

int age_recipient_parse(const char *text, struct age_recipient **out)
{
	*out = NULL;
	/* spec §9.1: recipients are lower-case; "AGE1..." is rejected. The
	 * hybrid prefix first: it starts like the X25519 one. */
	if (strncmp(text, PQ_RECIPIENT_PREFIX, strlen(PQ_RECIPIENT_PREFIX)) == 0)
		return pq_recipient_parse(text, out);
	if (strncmp(text, "age1", 4) == 0)
		return x25519_recipient_parse(text, out);
	if (strncmp(text, "ssh-ed25519 ", 12) == 0 || strncmp(text, "ssh-rsa ", 8) == 0)
		return age_ssh_recipient_parse(text, out);
	if (age_recipient_text_is_secret(text))
		return GS_FAIL(GS_ERR_PARSE, "this is an identity (secret key), not a recipient");
	if (age_ssh_is_other_key_type(text))
		return GS_FAIL(GS_ERR_KEY, "unsupported ssh key type");
	return GS_FAIL(GS_ERR_PARSE, "unknown recipient type");
}

int age_recipient_scrypt(const char *passphrase, size_t len, int log_n, struct age_recipient **out)
{
	struct age_recipient *r;

	*out = NULL;
	if (len == 0)
		return GS_FAIL(GS_ERR_KEY, "empty passphrase");
	if (log_n < 1 || log_n > AGE_SCRYPT_LOG_N_MAX)
		return GS_FAIL(GS_ERR_USAGE, "scrypt work factor must be between 1 and %d",
			       AGE_SCRYPT_LOG_N_MAX);
	r = age_recipient_new(AGE_KEY_SCRYPT);
	if (!r)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->passphrase = gs_secure_alloc(len);
	if (!r->passphrase) {
		age_recipient_free(r);
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	}
	memcpy(r->passphrase, passphrase, len);
	r->passphrase_len = len;
	r->log_n = log_n;
	*out = r;
	return 0;
}

/* The recipient and identity lists grow and go alike; they stay two typed
 * pairs of functions: a list of void * would lose the types callers use. */
int age_recipient_list_add(struct age_recipient_list *l, struct age_recipient *r)
{
	struct age_recipient **items = gs_realloc(l->items, (l->count + 1) * sizeof(*items));

	if (!items)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	items[l->count++] = r;
	l->items = items;
	return 0;
}

void age_recipient_list_release(struct age_recipient_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		age_recipient_free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

int age_identity_list_add(struct age_identity_list *l, struct age_identity *id)
{
	struct age_identity **items = gs_realloc(l->items, (l->count + 1) * sizeof(*items));

	if (!items)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	items[l->count++] = id;
	l->items = items;
	return 0;
}

void age_identity_list_release(struct age_identity_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		age_identity_free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Line iteration shared by both file kinds (spec §9.2): LF-separated, one
 * trailing CR dropped, empty lines and lines starting with '#' skipped.
 * The last "# public key: " comment since the line returned before is kept
 * (age-keygen writes one above each identity). */
#define PUBLIC_KEY_COMMENT "# public key: "

struct lines {
	const char *text;
	size_t len, pos, number;
	const char *public_key;      /* after PUBLIC_KEY_COMMENT, or NULL */
	size_t public_key_len;
};

static bool next_line(struct lines *it, const char **line, size_t *n)
{
	const char *nl;

	while (it->pos < it->len) {
		*line = it->text + it->pos;
		nl = memchr(*line, '\n', it->len - it->pos);
		*n = nl ? (size_t)(nl - *line) : it->len - it->pos;
		it->pos += *n + (nl ? 1 : 0);
		it->number++;
		if (*n && (*line)[*n - 1] == '\r')
			(*n)--;
		if (*n > strlen(PUBLIC_KEY_COMMENT) && !memcmp(*line, PUBLIC_KEY_COMMENT, strlen(PUBLIC_KEY_COMMENT))) {
			it->public_key = *line + strlen(PUBLIC_KEY_COMMENT);
			it->public_key_len = *n - strlen(PUBLIC_KEY_COMMENT);
		}
		if (*n == 0 || (*line)[0] == '#')
			continue;
		return true;
	}
	return false;
}

/* The point a "# public key: age1..." comment names, if it is one. */
static bool public_key_hint(const char *text, size_t n, uint8_t pk[32])
{
	char copy[128], hrp[16];
	size_t len;

	if (!text || n >= sizeof(copy))
		return false;
	memcpy(copy, text, n);
	copy[n] = '\0';
	return age_bech32_decode(copy, hrp, sizeof(hrp), pk, 32, &len) == 0 && !strcmp(hrp, RECIPIENT_HRP) &&
	       len == 32;
}

/* The identities are shared by the threads that open files (the git
 * filter's): the check's outcome is the one field written after parsing,
 * atomically, and every thread that writes it writes the same. */
static unsigned char pk_hint(const struct age_identity *id)
{
	return atomic_load_explicit(&((struct age_identity *)id)->pk_hint, memory_order_relaxed);
}

/* Computes the point into pk; a key file's word for it is found right or
 * wrong once (true when right). */
static bool pk_compute(const struct age_identity *id, uint8_t pk[32])
{
	bool right;

	crypto_scalarmult_base(pk, id->secret);
	if (pk_hint(id) != AGE_PK_HINTED)
		return false;
	right = sodium_memcmp(pk, id->pk, 32) == 0;
	atomic_store_explicit(&((struct age_identity *)id)->pk_hint, right ? AGE_PK_HINT_RIGHT : AGE_PK_HINT_WRONG,
			      memory_order_relaxed);
	return right;
}

void age_identity_true_pk(const struct age_identity *id, uint8_t pk[32])
{
	unsigned char hint = pk_hint(id);

	if (hint == AGE_PK_COMPUTED || hint == AGE_PK_HINT_RIGHT)
		memcpy(pk, id->pk, 32);
	else
		pk_compute(id, pk);
}

bool age_identity_pk(const struct age_identity *id, uint8_t pk[32])
{
	unsigned char hint = pk_hint(id);

	if (hint == AGE_PK_HINT_WRONG)
		crypto_scalarmult_base(pk, id->secret);
	else
		memcpy(pk, id->pk, 32);
	return hint == AGE_PK_HINTED;
}

bool age_identity_pk_recheck(const struct age_identity *id, uint8_t pk[32])
{
	/* another thread may have checked it meanwhile */
	if (pk_hint(id) == AGE_PK_HINT_RIGHT)
		return false;
	return !pk_compute(id, pk);
}

static int x25519_identity_parse(const char *text, const struct lines *it, struct age_identity **out)
{
	struct age_identity *id = age_identity_new(AGE_KEY_X25519, 32);
	char hrp[32];
	size_t n;

	if (!id)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	/* The prefix check makes the string upper-case (Bech32 forbids mixed
	 * case); the reference rejects lower-case identities. */
	if (strncmp(text, IDENTITY_PREFIX, strlen(IDENTITY_PREFIX)) != 0 ||
	    age_bech32_decode(text, hrp, sizeof(hrp), id->secret, 32, &n) != 0 ||
	    strcmp(hrp, IDENTITY_HRP) != 0 || n != 32) {
		age_identity_free(id);
		return GS_FAIL(GS_ERR_PARSE, "malformed native age identity");
	}
	if (it && public_key_hint(it->public_key, it->public_key_len, id->pk))
		atomic_init(&id->pk_hint, AGE_PK_HINTED);
	else
		crypto_scalarmult_base(id->pk, id->secret);
	*out = id;
	return 0;
}

/* The seed is expanded once, here: every stanza this identity tries
 * reuses the ML-KEM key instead of regenerating it. */
static int pq_identity_from_seed(struct age_identity *id)
{
	return mlkem768x25519_key_expand(id->secret, &id->pq);
}

static int pq_identity_parse(const char *text, struct age_identity **out)
{
	struct age_identity *id = age_identity_new(AGE_KEY_MLKEM768X25519, MLKEM768X25519_SEED_SIZE);
	char hrp[32];
	size_t n;
	int ret;

	if (!id)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	if (age_bech32_decode(text, hrp, sizeof(hrp), id->secret, MLKEM768X25519_SEED_SIZE, &n) != 0 ||
	    strcmp(hrp, PQ_IDENTITY_HRP) != 0 || n != MLKEM768X25519_SEED_SIZE) {
		age_identity_free(id);
		return GS_FAIL(GS_ERR_PARSE, "malformed post-quantum age identity");
	}
	ret = pq_identity_from_seed(id);
	if (ret) {
		age_identity_free(id);
		return ret;
	}
	*out = id;
	return 0;
}

/* A key of a type not known here, its type (the Bech32 HRP) copied into
 * type: a plugin identity (AGE-PLUGIN-NAME-1..., whatever its payload:
 * gitseal cannot run it anyway), or a well-formed upper-case Bech32 key
 * whose HRP starts "AGE-" (a future native type). */
static bool is_unknown_key_type(const char *line, size_t n, char *type, size_t cap)
{
	const char *sep = memrchr(line, '1', n);
	uint8_t *data;
	char hrp[128];
	size_t len;
	bool yes;

	if (n < 5 || strncmp(line, "AGE-", 4) != 0 || !sep || (size_t)(sep - line) >= cap)
		return false;
	yes = strncmp(line, "AGE-PLUGIN-", 11) == 0;
	if (!yes) {
		data = gs_secure_alloc(n);
		if (!data)
			return false;
		yes = age_bech32_decode(line, hrp, sizeof(hrp), data, n, &len) == 0;
		gs_secure_free(data);
	}
	if (yes) {
		memcpy(type, line, (size_t)(sep - line));
		type[sep - line] = '\0';
	}
	return yes;
}

/* One identity line: 0 with *id set, 0 with *id NULL when the line was
 * skipped (with a warning), or an error that never echoes the line. */
static int identity_line_parse(const char *line, size_t n, const char *source_name, const struct lines *it,
			       struct age_identity **id)
{
	size_t number = it->number;
	char type[128];
	int ret;

	*id = NULL;
	if (strncmp(line, PQ_IDENTITY_PREFIX, strlen(PQ_IDENTITY_PREFIX)) == 0)
		ret = pq_identity_parse(line, id);
	else if (strncmp(line, IDENTITY_PREFIX, strlen(IDENTITY_PREFIX)) == 0)
		ret = x25519_identity_parse(line, it, id);
	else if (is_unknown_key_type(line, n, type, sizeof(type))) {
		gs_warn("'%s': line %zu: skipped an identity of unsupported type %s", gs_shown(source_name), number,
			gs_shown(type));
		return 0;
	} else
		ret = GS_ERR_PARSE;
	/* the public half where the secret one belongs: a classic mistake */
	if (ret == GS_ERR_PARSE && (!strncmp(line, "age1", 4) || !strncmp(line, "ssh-", 4)))
		return GS_FAIL(GS_ERR_PARSE, "'%s': line %zu: this is a recipient (public key), not an identity",
			       gs_shown(source_name), number);
	if (ret == GS_ERR_PARSE)
		return GS_FAIL(GS_ERR_PARSE, "'%s': line %zu: not a valid identity", gs_shown(source_name), number);
	if (ret)
		gs_error_prefix("'%s': line %zu", gs_shown(source_name), number);
	return ret;
}

static int add_identity_text(struct age_identity_list *l, const char *text, size_t len, const char *source_name,
			     const char *key_path)
{
	struct lines it = { text, len, 0, 0, NULL, 0 };
	struct age_identity *id = NULL;
	const char *line;
	char *copy = NULL;
	size_t n, lines = 0;
	int ret = 0;

	if (len > KEY_FILE_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "'%s' is too large for an identity file", gs_shown(source_name));
	if ((len >= 14 && memcmp(text, "age-encryption", 14) == 0) ||
	    (len >= 14 && memcmp(text, "-----BEGIN AGE", 14) == 0))
		return GS_FAIL(GS_ERR_KEY, "'%s' is an encrypted identity file; not supported", gs_shown(source_name));
	if (len >= 10 && memcmp(text, "-----BEGIN", 10) == 0) {
		if ((ret = age_ssh_identity_parse(text, len, source_name, key_path, &id)) || (ret = age_identity_list_add(l, id)))
			age_identity_free(id);
		return ret;
	}
	copy = gs_secure_alloc(len + 1);
	if (!copy)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	while (!ret && next_line(&it, &line, &n)) {
		memcpy(copy, line, n);
		copy[n] = '\0';
		lines++;
		ret = identity_line_parse(copy, n, source_name, &it, &id);
		if (!ret && id && (ret = age_identity_list_add(l, id)))
			age_identity_free(id);
		it.public_key = NULL;
	}
	if (!ret && lines == 0)
		ret = GS_FAIL(GS_ERR_PARSE, "'%s': no identities found", gs_shown(source_name));
	gs_secure_free(copy);
	return ret;
}

int age_identity_list_add_text(struct age_identity_list *l, const char *text, size_t len,
			       const char *source_name)
{
	return add_identity_text(l, text, len, source_name, NULL);
}

int age_identity_list_add_file_text(struct age_identity_list *l, const char *text, size_t len, const char *path)
{
	return add_identity_text(l, text, len, path, path);
}

int age_recipient_list_add_file_text(struct age_recipient_list *l, const char *text, size_t len,
				     const char *source_name)
{
	struct lines it = { text, len, 0, 0, NULL, 0 };
	struct age_recipient *r = NULL;
	char copy[RECIPIENT_LINE_MAX + 1];
	const char *line;
	size_t n, found = 0;
	int ret = 0;

	if (len > KEY_FILE_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "'%s' is too large for a recipients file", gs_shown(source_name));
	while (next_line(&it, &line, &n)) {
		if (n > RECIPIENT_LINE_MAX)
			return GS_FAIL(GS_ERR_LIMIT, "'%s': line %zu is too long", gs_shown(source_name), it.number);
		memcpy(copy, line, n);
		copy[n] = '\0';
		if (age_ssh_is_other_key_type(copy))
			continue; /* spec §9.3: other SSH key types are skipped */
		ret = age_recipient_parse(copy, &r);
		if (ret) {
			gs_error_prefix("'%s': line %zu", gs_shown(source_name), it.number);
			return ret;
		}
		ret = age_recipient_list_add(l, r);
		if (ret) {
			age_recipient_free(r);
			return ret;
		}
		found++;
	}
	if (found == 0)
		return GS_FAIL(GS_ERR_PARSE, "'%s': no recipients found", gs_shown(source_name));
	return 0;
}

int age_identity_list_add_passphrase(struct age_identity_list *l, const char *passphrase, size_t len)
{
	struct age_identity *id;
	int ret;

	if (len == 0)
		return GS_FAIL(GS_ERR_KEY, "empty passphrase");
	id = age_identity_new(AGE_KEY_SCRYPT, len);
	if (!id)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	memcpy(id->secret, passphrase, len);
	ret = age_identity_list_add(l, id);
	if (ret)
		age_identity_free(id);
	return ret;
}

int age_identity_generate(struct age_identity **out)
{
	struct age_identity *id = age_identity_new(AGE_KEY_X25519, 32);

	*out = NULL;
	if (!id)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	randombytes_buf(id->secret, 32);
	crypto_scalarmult_base(id->pk, id->secret);
	*out = id;
	return 0;
}

int age_identity_generate_pq(struct age_identity **out)
{
	struct age_identity *id = age_identity_new(AGE_KEY_MLKEM768X25519, MLKEM768X25519_SEED_SIZE);
	int ret;

	*out = NULL;
	if (!id)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	randombytes_buf(id->secret, MLKEM768X25519_SEED_SIZE);
	ret = pq_identity_from_seed(id);
	if (ret) {
		age_identity_free(id);
		return ret;
	}
	*out = id;
	return 0;
}

int age_identity_encode(const struct age_identity *id, char *out, size_t cap)
{
	const char *hrp;

	if (id->type == AGE_KEY_X25519)
		hrp = IDENTITY_HRP;
	else if (id->type == AGE_KEY_MLKEM768X25519)
		hrp = PQ_IDENTITY_HRP;
	else
		return GS_FAIL(GS_ERR_KEY, "only native identities can be encoded");
	if (age_bech32_encode(hrp, id->secret, id->secret_len, true, out, cap) != 0)
		return GS_FAIL(GS_ERR_LIMIT, "buffer too small for the identity");
	return 0;
}

int age_identity_recipient_string(const struct age_identity *id, char *out, size_t cap)
{
	uint8_t pk[32];

	switch (id->type) {
	case AGE_KEY_X25519:
		/* never the key file's word: what is encrypted to it must open */
		age_identity_true_pk(id, pk);
		if (age_bech32_encode(RECIPIENT_HRP, pk, 32, false, out, cap) != 0)
			return GS_FAIL(GS_ERR_LIMIT, "buffer too small for the recipient");
		return 0;
	case AGE_KEY_MLKEM768X25519:
		if (age_bech32_encode(PQ_RECIPIENT_HRP, mlkem768x25519_key_public(id->pq), MLKEM768X25519_PK_SIZE,
				      false, out, cap) != 0)
			return GS_FAIL(GS_ERR_LIMIT, "buffer too small for the recipient");
		return 0;
	case AGE_KEY_SSH_ED25519:
	case AGE_KEY_SSH_RSA:
		return age_ssh_recipient_string(id, out, cap);
	case AGE_KEY_SCRYPT:
	default:
		return GS_FAIL(GS_ERR_KEY, "a passphrase has no recipient string");
	}
}
