/* age v1 encryption and decryption: header, unwrap, MAC, STREAM, in the
 * order of spec §3.6. */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/random.h"

#include "age_int.h"

enum { INPUT_BUFFER = 128 * 1024 };

/* Each key type's stanza (spec §3): how a file key is wrapped for a
 * recipient and unwrapped with an identity. */
static const struct {
	int (*wrap)(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h);
	int (*unwrap)(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key);
} stanza_methods[] = {
	[AGE_KEY_X25519] = { age_x25519_wrap, age_x25519_unwrap },
	[AGE_KEY_SCRYPT] = { age_scrypt_wrap, age_scrypt_unwrap },
	[AGE_KEY_SSH_ED25519] = { age_ssh_wrap, age_ssh_unwrap },
	[AGE_KEY_SSH_RSA] = { age_ssh_wrap, age_ssh_unwrap },
	[AGE_KEY_MLKEM768X25519] = { age_pq_wrap, age_pq_unwrap },
};

static int wrap_for(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
{
	if ((size_t)r->type >= sizeof(stanza_methods) / sizeof(stanza_methods[0]))
		return GS_FAIL(GS_ERR_KEY, "unknown recipient type");
	return stanza_methods[r->type].wrap(r, file_key, h);
}

static int encrypt_to(const struct age_recipient_list *recipients, struct gs_reader *in,
		      struct gs_writer *out)
{
	struct age_header h = { 0 };
	struct gs_buf hdr;
	uint8_t *file_key = gs_secure_alloc(AGE_FILE_KEY_SIZE);
	uint8_t nonce[AGE_NONCE_SIZE];
	size_t i;
	int ret = 0;

	gs_buf_init(&hdr, false);
	if (!file_key)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	/* a header made ahead of time (prepare.c) for a lone X25519 recipient */
	if (recipients->count != 1 || !age_prepared_take(recipients->items[0], file_key, &h)) {
		gs_random_buf(file_key, AGE_FILE_KEY_SIZE);
		for (i = 0; i < recipients->count; i++)
			if ((ret = wrap_for(recipients->items[i], file_key, &h)))
				goto out;
		if ((ret = age_header_compute_mac(&h, file_key, h.mac)))
			goto out;
	}
	gs_random_buf(nonce, sizeof(nonce));
	if ((ret = age_header_write(&h, &hdr)) || (ret = gs_buf_append(&hdr, nonce, sizeof(nonce))) ||
	    (ret = out->write(out->ctx, hdr.data, hdr.len)))
		goto out;
	ret = age_stream_encrypt(file_key, nonce, in, out);
out:
	gs_secure_free(file_key);
	gs_buf_release(&hdr);
	age_header_release(&h);
	return ret;
}

/* The rules on which recipients may share a file, checked before
 * anything is written. */
static int check_recipients(const struct age_recipient_list *recipients, bool allow_mixed)
{
	size_t i, pq = 0;

	if (recipients->count == 0)
		return GS_FAIL(GS_ERR_USAGE, "no recipients");
	for (i = 0; i < recipients->count; i++) {
		if (recipients->items[i]->type == AGE_KEY_SCRYPT && recipients->count > 1)
			return GS_FAIL(GS_ERR_USAGE, "a passphrase recipient must be the only recipient");
		pq += recipients->items[i]->type == AGE_KEY_MLKEM768X25519;
	}
	/* Go age 1.3 (age.go encryptHdr): hybrid recipients carry the label
	 * "postquantum", classic ones none, and all label sets must match;
	 * so does its message. A classic stanza would let a quantum computer
	 * open the file anyway. */
	if (pq && pq != recipients->count && !allow_mixed)
		return GS_FAIL(GS_ERR_KEY, "incompatible recipients: can't mix post-quantum and classic "
					   "recipients, or the file would be vulnerable to quantum computers");
	return 0;
}

int age_encrypt(const struct age_recipient_list *recipients, bool armor, struct gs_reader *in,
		struct gs_writer *out)
{
	const struct age_encrypt_opts opts = { .armor = armor };

	return age_encrypt_with(recipients, &opts, in, out);
}

/* The file through an armor writer, whose end is written once the payload is. */
static int encrypt_armored(const struct age_recipient_list *recipients, struct gs_reader *in,
			   struct gs_writer *out)
{
	struct age_armor_writer aw;
	struct gs_writer w;
	int ret;

	if ((ret = age_armor_writer_init(&aw, out)))
		return ret;
	w = age_armor_writer_as_writer(&aw);
	if ((ret = encrypt_to(recipients, in, &w)))
		goto out;
	ret = age_armor_writer_finish(&aw);
out:
	age_armor_writer_release(&aw);
	return ret;
}

int age_encrypt_with(const struct age_recipient_list *recipients, const struct age_encrypt_opts *opts,
		     struct gs_reader *in, struct gs_writer *out)
{
	int ret;

	if ((ret = check_recipients(recipients, opts->allow_mixed)))
		goto out;
	ret = opts->armor ? encrypt_armored(recipients, in, out) : encrypt_to(recipients, in, out);
out:
	age_preload_wait();
	return ret;
}

static int unwrap_with(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	if ((size_t)id->type >= sizeof(stanza_methods) / sizeof(stanza_methods[0]))
		return AGE_UNWRAP_SKIP;
	return stanza_methods[id->type].unwrap(id, s, file_key);
}

/* Unwraps the file key: identities in order, then stanzas in file order. */
static int unwrap(const struct age_identity_list *ids, const struct age_header *h, uint8_t *file_key)
{
	size_t i, j;
	int ret;

	/* spec §4.2: an scrypt stanza must be alone. Checked up front so the
	 * result does not depend on the order of the identities. */
	for (j = 0; j < h->count; j++)
		if (strcmp(h->stanzas[j].args[0], "scrypt") == 0 && h->count != 1)
			return GS_FAIL(GS_ERR_AGE_HEADER, "an scrypt stanza must be the only stanza");
	/* passphrase-protected keys last: no question when another opens it */
	for (int locked = 0; locked < 2; locked++)
		for (i = 0; i < ids->count; i++) {
			if (!ids->items[i]->locked != !locked)
				continue;
			for (j = 0; j < h->count; j++) {
				ret = unwrap_with(ids->items[i], &h->stanzas[j], file_key);
				if (ret != AGE_UNWRAP_SKIP)
					return ret;
			}
		}
	/* a passphrase file tried with a passphrase: said as age says it */
	for (i = 0; i < ids->count && h->count == 1; i++)
		if (ids->items[i]->type == AGE_KEY_SCRYPT && !strcmp(h->stanzas[0].args[0], "scrypt"))
			return GS_FAIL(GS_ERR_AGE_NO_MATCH, "incorrect passphrase");
	return GS_FAIL(GS_ERR_AGE_NO_MATCH, "no identity matched any of the recipients");
}

static int decrypt_from(const struct age_identity_list *ids, struct age_bufin *in, struct gs_writer *out)
{
	struct age_header h;
	uint8_t *file_key = NULL;
	uint8_t mac[AGE_MAC_SIZE], nonce[AGE_NONCE_SIZE];
	size_t got;
	int ret;

	ret = age_header_parse(in, &h);
	if (ret)
		return ret;
	file_key = gs_secure_alloc(AGE_FILE_KEY_SIZE);
	if (!file_key) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	ret = unwrap(ids, &h, file_key);
	if (ret)
		goto out;
	ret = age_header_compute_mac(&h, file_key, mac);
	if (ret)
		goto out;
	if (sodium_memcmp(mac, h.mac, AGE_MAC_SIZE) != 0) {
		ret = GS_FAIL(GS_ERR_AGE_HMAC, "header MAC mismatch");
		goto out;
	}
	ret = age_bufin_read(in, nonce, sizeof(nonce), &got);
	if (ret)
		goto out;
	if (got < sizeof(nonce)) {
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "truncated file: missing payload nonce");
		goto out;
	}
	ret = age_stream_decrypt(file_key, nonce, in, out);
out:
	gs_secure_free(file_key);
	age_header_release(&h);
	return ret;
}

static int decrypt_buffered(const struct age_identity_list *ids, struct gs_reader *in, struct gs_writer *out,
			    enum age_armor_mode mode, size_t cap)
{
	struct age_bufin raw, dearmored;
	struct age_armor_reader ar;
	struct gs_reader ar_reader;
	bool armored = mode == AGE_ARMOR_YES;
	int ret;

	if ((ret = age_bufin_init(&raw, in, cap)))
		goto out;
	if (mode == AGE_ARMOR_AUTO && (ret = age_armor_detect(&raw, &armored))) {
		age_bufin_release(&raw);
		goto out;
	}
	if (!armored) {
		ret = decrypt_from(ids, &raw, out);
		age_bufin_release(&raw);
		goto out;
	}
	age_armor_reader_init(&ar, &raw);
	ar_reader = age_armor_reader_as_reader(&ar);
	if (!(ret = age_bufin_init(&dearmored, &ar_reader, cap))) {
		ret = decrypt_from(ids, &dearmored, out);
		age_bufin_release(&dearmored);
	}
	age_bufin_release(&raw);
out:
	age_preload_wait();
	return ret;
}

int age_decrypt_mode(const struct age_identity_list *ids, struct gs_reader *in, struct gs_writer *out,
		     enum age_armor_mode mode)
{
	return decrypt_buffered(ids, in, out, mode, INPUT_BUFFER);
}

int age_decrypt(const struct age_identity_list *identities, struct gs_reader *in, struct gs_writer *out)
{
	return age_decrypt_mode(identities, in, out, AGE_ARMOR_AUTO);
}

static size_t skip_space(const uint8_t *data, size_t len)
{
	size_t i = 0;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n' ||
			   data[i] == '\v' || data[i] == '\f'))
		i++;
	return i;
}

bool age_looks_like_age(const uint8_t *data, size_t len)
{
	size_t i = skip_space(data, len);

	if (len - i >= strlen(AGE_ARMOR_BEGIN) && memcmp(data + i, AGE_ARMOR_BEGIN, strlen(AGE_ARMOR_BEGIN)) == 0)
		return true;
	return len >= strlen(AGE_INTRO) + 1 && memcmp(data, AGE_INTRO "\n", strlen(AGE_INTRO) + 1) == 0;
}

bool age_is_passphrase_file(const uint8_t *data, size_t len)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, data, len);
	struct age_bufin raw, dearmored, *hin = &raw;
	struct age_armor_reader ar;
	struct gs_reader ar_reader;
	struct age_header h;
	bool armored = false, found = false;
	size_t i;

	/* sized to the bytes given: a 128 KiB buffer for a few KiB costs a
	 * short decryption an mmap and a munmap */
	if (age_bufin_init(&raw, &r, len < INPUT_BUFFER ? len + 1 : INPUT_BUFFER))
		return false;
	if (age_armor_detect(&raw, &armored)) {
		age_bufin_release(&raw);
		return false;
	}
	if (armored) {
		age_armor_reader_init(&ar, &raw);
		ar_reader = age_armor_reader_as_reader(&ar);
		if (age_bufin_init(&dearmored, &ar_reader, len < INPUT_BUFFER ? len + 1 : INPUT_BUFFER)) {
			age_bufin_release(&raw);
			return false;
		}
		hin = &dearmored;
	}
	if (age_header_parse(hin, &h) == 0) {
		for (i = 0; i < h.count; i++)
			if (strcmp(h.stanzas[i].args[0], "scrypt") == 0)
				found = true;
		age_header_release(&h);
	}
	if (armored)
		age_bufin_release(&dearmored);
	age_bufin_release(&raw);
	gs_error_clear();
	return found;
}

int age_encrypt_mem(const struct age_recipient_list *recipients, bool armor, const uint8_t *in,
		    size_t len, struct gs_buf *out)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, in, len);
	struct gs_writer w;
	int ret;

	gs_buf_init(out, false);
	w = gs_writer_to_buf(out);
	ret = age_encrypt(recipients, armor, &r, &w);
	if (ret)
		gs_buf_release(out);
	return ret;
}

int age_decrypt_mem(const struct age_identity_list *identities, const uint8_t *in, size_t len,
		    struct gs_buf *out)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, in, len);
	struct gs_writer w;
	int ret;

	gs_buf_init(out, true);
	w = gs_writer_to_buf(out);
	/* buffers sized to the bytes given, as age_is_passphrase_file's: two
	 * of 128 KiB for a sops stanza's ~400 bytes made a worker's malloc
	 * arena trim (madvise) and fault its pages in again for every file */
	ret = decrypt_buffered(identities, &r, &w, AGE_ARMOR_AUTO, len < INPUT_BUFFER ? len + 1 : INPUT_BUFFER);
	/* Release nothing on failure, not even an authenticated prefix. */
	if (ret)
		gs_buf_release(out);
	return ret;
}
