/* The filter's cache of opened data keys (<common git dir>/gitseal/key-cache):
 * a checkout opens every file's age stanza again, an X25519 and two HKDFs
 * (about 475 K of a smudge's 790 K instructions, callgrind), for data keys
 * this clone made itself in `git add` or opened before.
 *
 * As safe as the identity: each record is sealed (XChaCha20-Poly1305)
 * under a key derived from one age identity's secret, and found by a
 * keyed BLAKE2b of the whole age file (every stanza, the header MAC and
 * the payload), under a second key derived from it. Whoever reads the
 * file without the identity learns nothing but how many records there
 * are; a record is handed out only for the very age file it was opened
 * from or made as, and only to the identity that opened it or for whose
 * recipient it was made (issue 12, rule 2: a stanza copied into another
 * file finds the same payload age itself would give; no other stanza
 * finds it). A record that does not authenticate is ignored: a changed
 * or damaged cache costs an X25519, never a wrong key (the file's MAC is
 * checked with the key anyway).
 *
 * Two files hold records: the clone's, and the user's
 * (<XDG_CACHE_HOME or ~/.cache>/gitseal/key-cache, in a directory of the
 * user's own that no one else may enter), shared by the user's clones so
 * that a fresh clone's first checkout skips the X25519 of every file the
 * user sealed or opened in another clone. The user's file is the same
 * record format under the same keys, so it serves exactly what the
 * clone's would: a repository can make it hand out a key only for an age
 * file that identity opened or made, byte for byte, where age itself gives
 * the same key; it never writes a record the identity did not open or
 * make (docs/git.md, Speed). A record found there is copied into the
 * clone's file, which is looked at first.
 *
 * Each file is read and written in the directory that was checked when the
 * filter started, held open, never through its name again: whoever can
 * change a directory above it (an XDG_CACHE_HOME in a shared place, the
 * user's own under `sudo -E`) could swap it for a link to another.
 *
 * Records are fixed-size and appended whole by one write (filters running
 * at once never mix their records). Past KEYCACHE_FILE_MAX, or after a
 * torn record, a file starts again empty. Only native identities (X25519, the post-quantum
 * hybrid) are cached: an SSH key or a key command gives no secret to
 * derive from here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/age.h"
#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/random.h"
#include "gitseal/secmem.h"
#include "gitseal/sops.h"
#include "gitseal/userdir.h"
#include "gitfilter_int.h"

enum {
	KC_IDX = 32,
	KC_AD = KC_IDX + 1, /* the index and the payload's length */
	KC_NONCE = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	KC_PAYLOAD = 48, /* a data key (32) or a Shamir share (33), zero-padded */
	KC_SEALED = KC_PAYLOAD + crypto_aead_xchacha20poly1305_ietf_ABYTES,
	KC_RECORD = KC_AD + KC_NONCE + KC_SEALED,
	KC_FLUSH_AT = 64 * 1024,
	KEYCACHE_FILE_MAX = 16 * 1024 * 1024,
	KC_RECIPIENT_MAX = 2048,
	KC_SECRET_MAX = 128, /* a native identity's text (AGE_PQ_IDENTITY_LEN, AGE_X25519_IDENTITY_LEN) */
};

/* One identity's two keys: the index key, then the sealing key. */
struct kc_identity {
	const struct age_identity *id;
	uint8_t *keys; /* secure, 64 bytes */
	char *recipient;
};

#define KC_FILE_NAME "key-cache"

/* One file of records and what of it is in memory. */
struct kc_file {
	int dir; /* the directory it is in, open; -1: none */
	bool loaded;       /* read on first lookup; stores before it append unread */
	uint8_t *records;  /* KC_RECORD bytes each (public: sealed) */
	size_t count, cap;
	uint32_t *slots;   /* record index + 1, open addressing on the index */
	size_t slot_cap;
	struct gs_buf pending; /* records not yet written */
};

enum { KC_CLONE, KC_USER, KC_FILES };

struct keycache {
	pthread_mutex_t lock;
	struct kc_file files[KC_FILES]; /* the clone's, then the user's (dir -1: none) */
	struct kc_identity *ids;
	size_t id_count;
	uint8_t *scratch;  /* secure, KC_PAYLOAD bytes */
	struct sops_key_cache iface;
	atomic_bool missed;
};

/* The test build can tell a payload found from one opened again
 * (GITSEAL_TEST_KEYCACHE_LOG=FILE: a line "hit", "miss" or "store" each,
 * appended): the answers are the same either way. Release builds compile
 * this out. */
static void test_log(const char *what)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *path = getenv("GITSEAL_TEST_KEYCACHE_LOG");
	FILE *f = path && *path ? fopen(path, "a") : NULL;

	if (f) {
		fprintf(f, "%s\n", what);
		fclose(f);
	}
#else
	(void)what;
#endif
}

static void derive(const char *secret, size_t len, uint8_t keys[64])
{
	static const char label[] = "gitseal key-cache v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, (const uint8_t *)secret, len);
	crypto_generichash_final(&st, keys, 64);
	sodium_memzero(&st, sizeof(st));
}

static void record_index(const struct kc_identity *d, const char *enc, size_t len, uint8_t idx[KC_IDX])
{
	crypto_generichash(idx, KC_IDX, (const uint8_t *)enc, len, d->keys, 32);
}

static size_t slot_of(const uint8_t *idx, size_t cap)
{
	size_t h;

	memcpy(&h, idx, sizeof(h)); /* a keyed hash: uniform already */
	return h & (cap - 1);
}

static const uint8_t *find(const struct kc_file *c, const uint8_t idx[KC_IDX])
{
	if (!c->slot_cap)
		return NULL;
	for (size_t i = slot_of(idx, c->slot_cap);; i = (i + 1) & (c->slot_cap - 1)) {
		const uint8_t *r;

		if (!c->slots[i])
			return NULL;
		r = c->records + (size_t)(c->slots[i] - 1) * KC_RECORD;
		if (!memcmp(r, idx, KC_IDX))
			return r;
	}
}

static void place(struct kc_file *c, size_t n)
{
	size_t i = slot_of(c->records + n * KC_RECORD, c->slot_cap);

	while (c->slots[i])
		i = (i + 1) & (c->slot_cap - 1);
	c->slots[i] = (uint32_t)(n + 1);
}

/* Room for one more record, the table at most half full. */
static int grow(struct kc_file *c)
{
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		uint8_t *r = gs_realloc(c->records, cap * KC_RECORD);

		if (!r)
			return GS_ERR_NOMEM;
		c->records = r;
		c->cap = cap;
	}
	if ((c->count + 1) * 2 > c->slot_cap) {
		size_t cap = c->slot_cap ? c->slot_cap * 2 : 2048;
		uint32_t *s = gs_calloc(cap, sizeof(*s));

		if (!s)
			return GS_ERR_NOMEM;
		free(c->slots);
		c->slots = s;
		c->slot_cap = cap;
		for (size_t i = 0; i < c->count; i++)
			place(c, i);
	}
	return 0;
}

static void add(struct kc_file *c, const uint8_t *record)
{
	if (find(c, record) || grow(c))
		return;
	memcpy(c->records + c->count * KC_RECORD, record, KC_RECORD);
	place(c, c->count++);
}

/* Read on first lookup; whatever goes wrong leaves it empty. */
static void load(struct kc_file *c)
{
	struct gs_buf b;
	struct stat st;
	ssize_t n = 1;
	int fd;

	if (c->loaded || c->dir < 0)
		return;
	c->loaded = true;
	if ((fd = openat(c->dir, KC_FILE_NAME, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	gs_buf_init(&b, false);
	/* past its limit it is garbage to read: the next flush empties it */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < KEYCACHE_FILE_MAX &&
	    gs_buf_reserve(&b, (size_t)st.st_size) == 0)
		while (b.len < (size_t)st.st_size &&
		       ((n = read(fd, b.data + b.len, (size_t)st.st_size - b.len)) > 0 || (n < 0 && errno == EINTR)))
			b.len += n > 0 ? (size_t)n : 0;
	close(fd);
	/* a torn record (a full disk) shifts every record after it: those
	 * before it still serve, and the next write starts the file again */
	for (size_t off = 0; off + KC_RECORD <= b.len; off += KC_RECORD)
		add(c, b.data + off);
	gs_error_clear();
	gs_buf_release(&b);
}

static void flush(struct kc_file *c)
{
	struct stat st;
	int fd;

	if (!c->pending.len || c->dir < 0)
		return;
	fd = openat(c->dir, KC_FILE_NAME, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		ssize_t n;

		/* past its limit, or torn: it starts again */
		if (fstat(fd, &st) == 0 && (st.st_size >= KEYCACHE_FILE_MAX || st.st_size % KC_RECORD))
			n = ftruncate(fd, 0);
		/* one write of whole records: concurrent filters append, never
		 * mix; a short write (a full disk) leaves a torn record that the
		 * next write starts the file again for */
		n = write(fd, c->pending.data, c->pending.len);
		(void)n;
		close(fd);
	}
	gs_buf_reset(&c->pending);
}

/* Keeps a record in one file: in memory, and pending for its next write.
 * A file not read yet is not read for it: a record made now (a new age
 * file, or one just opened) is not in it. */
static void keep(struct kc_file *c, const uint8_t *record)
{
	if (c->dir < 0 || find(c, record))
		return;
	add(c, record);
	if (gs_buf_append(&c->pending, record, KC_RECORD) == 0 && c->pending.len >= KC_FLUSH_AT)
		flush(c);
	gs_error_clear();
}

static const struct kc_identity *identity_of(const struct keycache *c, const struct age_identity *id)
{
	for (size_t i = 0; i < c->id_count; i++)
		if (c->ids[i].id == id)
			return &c->ids[i];
	return NULL;
}

static void store(struct keycache *c, const struct kc_identity *d, const char *enc, size_t enc_len,
		  const uint8_t *payload, size_t len)
{
	uint8_t record[KC_RECORD], *nonce = record + KC_AD, *sealed = nonce + KC_NONCE;

	if (len > KC_PAYLOAD)
		return;
	record_index(d, enc, enc_len, record);
	record[KC_IDX] = (uint8_t)len;
	gs_random_buf(nonce, KC_NONCE);
	pthread_mutex_lock(&c->lock);
	memset(c->scratch, 0, KC_PAYLOAD);
	memcpy(c->scratch, payload, len);
	/* the index and the length are the record's additional data: a sealed
	 * payload moved under another index does not open */
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, NULL, c->scratch, KC_PAYLOAD, record, KC_AD, NULL,
						   nonce, d->keys + 32);
	sodium_memzero(c->scratch, KC_PAYLOAD);
	test_log("store");
	for (size_t i = 0; i < KC_FILES; i++)
		keep(&c->files[i], record);
	pthread_mutex_unlock(&c->lock);
}

/* The record of idx that opens, from the first file holding one, copied
 * into the clone's file when the user's had it; 1 with the payload in
 * c->scratch. */
static int find_open(struct keycache *c, const struct kc_identity *d, const uint8_t ad[KC_AD])
{
	for (size_t i = 0; i < KC_FILES; i++) {
		const uint8_t *r;

		load(&c->files[i]);
		r = find(&c->files[i], ad);
		if (!r || crypto_aead_xchacha20poly1305_ietf_decrypt(c->scratch, NULL, NULL, r + KC_AD + KC_NONCE,
								     KC_SEALED, ad, KC_AD, r + KC_AD,
								     d->keys + 32) != 0)
			continue;
		if (i != KC_CLONE) {
			uint8_t record[KC_RECORD];

			memcpy(record, r, KC_RECORD);
			keep(&c->files[KC_CLONE], record);
		}
		return 1;
	}
	return 0;
}

static int kc_lookup(void *ctx, const struct age_identity_list *ids, const char *enc, size_t enc_len, size_t want,
		     struct gs_buf *plain)
{
	struct keycache *c = ctx;
	int found = 0;

	if (want > KC_PAYLOAD)
		return 0;
	for (size_t k = 0; k < ids->count && !found; k++) {
		const struct kc_identity *d = identity_of(c, ids->items[k]);
		uint8_t ad[KC_AD];

		if (!d)
			continue;
		record_index(d, enc, enc_len, ad);
		ad[KC_IDX] = (uint8_t)want;
		pthread_mutex_lock(&c->lock);
		if (find_open(c, d, ad))
			found = gs_buf_append(plain, c->scratch, want) == 0 ? 1 : 0;
		sodium_memzero(c->scratch, KC_PAYLOAD);
		pthread_mutex_unlock(&c->lock);
	}
	gs_error_clear();
	test_log(found ? "hit" : "miss");
	if (!found)
		atomic_store_explicit(&c->missed, true, memory_order_relaxed);
	return found;
}

bool keycache_missed(const struct keycache *c)
{
	return atomic_load_explicit(&c->missed, memory_order_relaxed);
}

static void kc_opened(void *ctx, const struct age_identity *id, const char *enc, size_t enc_len,
		      const uint8_t *payload, size_t len)
{
	struct keycache *c = ctx;
	const struct kc_identity *d = identity_of(c, id);

	if (d)
		store(c, d, enc, enc_len, payload, len);
}

static void kc_wrapped(void *ctx, const char *recipient, const char *enc, size_t enc_len, const uint8_t *payload,
		       size_t len)
{
	struct keycache *c = ctx;

	for (size_t i = 0; i < c->id_count; i++)
		if (!strcmp(c->ids[i].recipient, recipient)) {
			store(c, &c->ids[i], enc, enc_len, payload, len);
			return;
		}
}

static int add_identity(struct keycache *c, const struct age_identity *id)
{
	struct kc_identity *d = &c->ids[c->id_count];
	char *secret = gs_secure_alloc(KC_SECRET_MAX);
	char recipient[KC_RECIPIENT_MAX];
	int ret = 0;

	if (!secret)
		return GS_ERR_NOMEM;
	/* an identity that is not native has no secret to derive from */
	if (age_identity_encode(id, secret, KC_SECRET_MAX) < 0 ||
	    age_identity_recipient_string(id, recipient, sizeof(recipient)) < 0)
		goto out;
	if (!(d->keys = gs_secure_alloc(64)) || !(d->recipient = gs_strdup(recipient))) {
		gs_secure_free(d->keys);
		ret = GS_ERR_NOMEM;
		goto out;
	}
	derive(secret, strlen(secret), d->keys);
	d->id = id;
	c->id_count++;
out:
	gs_secure_free(secret);
	gs_error_clear();
	return ret;
}

/* The directory of the user's file, shared by the user's clones, open; -1:
 * no HOME, or a directory that others could read or change (the records
 * are sealed, but whoever can replace them can fill the file or take it
 * away). */
static int user_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *base = NULL, *dir = NULL;
	int fd = -1;

	/* XDG: a relative path is invalid and ignored */
	if (xdg && xdg[0] == '/')
		base = gs_strdup(xdg);
	else if (home && home[0] == '/' && gs_asprintf(&base, "%s/.cache", home) < 0)
		base = NULL;
	if (!base)
		goto out;
	/* the base is the user's own (~/.cache); made 0700 when missing */
	if ((mkdir(base, 0700) != 0 && errno != EEXIST) || gs_asprintf(&dir, "%s/gitseal", base) < 0) {
		dir = NULL;
		goto out;
	}
	/* made 0700 when missing; used only when no one else can enter or change it */
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		fd = gs_userdir_open_private(dir);
out:
	free(base);
	free(dir);
	gs_error_clear();
	return fd;
}

void keycache_free(struct keycache *c)
{
	if (!c)
		return;
	sops_key_cache_use(NULL);
	for (size_t i = 0; i < KC_FILES; i++) {
		struct kc_file *k = &c->files[i];

		flush(k);
		free(k->records);
		free(k->slots);
		if (k->dir >= 0)
			close(k->dir);
		gs_buf_release(&k->pending);
	}
	for (size_t i = 0; i < c->id_count; i++) {
		gs_secure_free(c->ids[i].keys);
		free(c->ids[i].recipient);
	}
	free(c->ids);
	gs_secure_free(c->scratch);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct keycache *keycache_start(struct gitfilter *f)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	const char *off = getenv("GITSEAL_KEY_CACHE");
	struct keycache *c;

	if (!ids || !f->statedir || (off && !strcmp(off, "0")))
		return NULL;
	if (!(c = gs_calloc(1, sizeof(*c))))
		goto nomem;
	pthread_mutex_init(&c->lock, NULL);
	for (size_t i = 0; i < KC_FILES; i++) {
		gs_buf_init(&c->files[i].pending, false);
		c->files[i].dir = -1;
	}
	if (!(c->ids = gs_calloc(ids->count, sizeof(*c->ids))) || !(c->scratch = gs_secure_alloc(KC_PAYLOAD)))
		goto fail;
	for (size_t i = 0; i < ids->count; i++)
		if (add_identity(c, ids->items[i]))
			goto fail;
	if (!c->id_count)
		goto fail;
	/* the directory exists once `gitseal git init` ran; made here otherwise */
	if ((mkdir(f->statedir, 0700) != 0 && errno != EEXIST) ||
	    (c->files[KC_CLONE].dir = open(f->statedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	c->files[KC_USER].dir = user_dir();
	c->iface = (struct sops_key_cache){ kc_lookup, kc_opened, kc_wrapped, c };
	sops_key_cache_use(&c->iface);
	return c;
fail:
	keycache_free(c);
nomem:
	gs_error_clear();
	return NULL;
}
