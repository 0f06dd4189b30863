/* libFuzzer target: OpenSSH private keys (ssh.c), passphrase-protected
 * ones included. The first byte picks the input's use:
 *  0: a private section in the clear (check words, key), as after a
 *     decryption, with a right or a wrong passphrase;
 *  2: a legacy encrypted PEM key (Proc-Type, DEK-Info), passphrase "pwpwpw";
 *  else: an openssh-key-v1 blob, armored here; a passphrase-protected key is
 *     then opened with the passphrase "pw" by a stanza with its tag (the
 *     kdf's rounds kept small here, else one input would take minutes;
 *     more than ssh.c's cap are read: refused before any work).
 * Whatever parses gives its recipient; a stanza with the key's tag is
 * never "not mine". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/age.h"
#include "gitseal/base64.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROUNDS_MAX = 2, BODY = 512 };

static int give_pw(const char *key_name, struct gs_buf *out)
{
	(void)key_name;
	return gs_buf_append_str(out, "pw");
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The kdf's rounds, read as ssh.c reads them; 0 when the blob ends first. */
static uint32_t kdf_rounds(const uint8_t *p, size_t n)
{
	size_t off = sizeof("openssh-key-v1"), i, len;

	for (i = 0; i < 2; i++) { /* cipher, kdf name */
		if (n - off < 4 || n < off)
			return 0;
		len = be32(p + off);
		if (len > n - off - 4)
			return 0;
		off += 4 + len;
	}
	/* the options: their length, the salt's, the salt, the rounds */
	if (n < off || n - off < 8)
		return 0;
	len = be32(p + off + 4);
	off += 8;
	if (len > n - off || n - off - len < 4)
		return 0;
	return be32(p + off + len);
}

static void check_identity(const struct age_identity *id)
{
	char *text = malloc(16384), tag[16], share[48];
	const char *args[3];
	uint8_t body[BODY] = { 0 }, file_key[AGE_FILE_KEY_SIZE], zero[32] = { 9 };
	struct age_stanza s = { (char **)args, 0, body, 0 };
	int ret;

	if (!text || age_identity_recipient_string(id, text, 16384) != 0)
		abort();
	free(text);
	if (!id->locked)
		return;
	gs_base64_encode_raw(id->ssh_tag, AGE_SSH_TAG_SIZE, tag, sizeof(tag));
	gs_base64_encode_raw(zero, sizeof(zero), share, sizeof(share));
	args[0] = id->type == AGE_KEY_SSH_RSA ? "ssh-rsa" : "ssh-ed25519";
	args[1] = tag;
	args[2] = share;
	s.argc = id->type == AGE_KEY_SSH_RSA ? 2 : 3;
	s.body_len = id->type == AGE_KEY_SSH_RSA ? 256 : AGE_WRAPPED_KEY_SIZE;
	ret = age_ssh_unwrap(id, &s, file_key);
	if (ret == AGE_UNWRAP_SKIP || ret == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct age_identity_list ids = { 0 };
	struct age_identity *id = NULL;
	char *text;
	uint32_t rounds;
	size_t n;

	if (!initialised) {
		if (gs_crypto_init() != 0)
			abort();
		age_ssh_passphrase_source(give_pw);
		initialised = 1;
	}
	if (size < 1 || size > 8192)
		return 0;
	if (data[0] == 0) {
		for (int encrypted = 0; encrypted < 2; encrypted++) {
			if (age_ssh_private_section_parse(data + 1, size - 1, "fuzz", encrypted, &id) == 0) {
				check_identity(id);
				age_identity_free(id);
				id = NULL;
			}
		}
		gs_error_clear();
		return 0;
	}
	if (data[0] == 2) {
		text = malloc(size);
		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		if (age_ssh_pem_legacy_parse(text, size - 1, "fuzz", (const uint8_t *)"pwpwpw", 6, &id) == 0) {
			check_identity(id);
			age_identity_free(id);
		}
		free(text);
		gs_error_clear();
		return 0;
	}
	/* more than the cap is refused before any work: read */
	rounds = kdf_rounds(data + 1, size - 1);
	if (rounds > ROUNDS_MAX && rounds <= AGE_SSH_BCRYPT_ROUNDS_MAX)
		return 0;
	n = GS_BASE64_LEN(size - 1);
	text = malloc(n + 80);
	if (!text)
		return 0;
	strcpy(text, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	gs_base64_encode(data + 1, size - 1, text + strlen(text), n + 1);
	strcat(text, "\n-----END OPENSSH PRIVATE KEY-----\n");
	if (age_identity_list_add_text(&ids, text, strlen(text), "fuzz") == 0)
		for (size_t i = 0; i < ids.count; i++)
			check_identity(ids.items[i]);
	age_identity_list_release(&ids);
	free(text);
	gs_error_clear();
	return 0;
}
