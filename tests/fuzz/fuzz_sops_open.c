/* Opening a sops file someone else wrote (repository content is attacker
 * input): the metadata (key groups, age stanzas, PGP and Vault entries,
 * lastmodified, mac, the selection rule, shamir), the data key's unwrap,
 * the MAC and every value, with the demo age key of keys/, in the four
 * text stores. Checked, not only "no crash":
 *   - the reader's open (render, smudge) and the editor's (reseal) give
 *     the same verdict and the same tree;
 *   - the keys read without a data key (sops_doc_keys: status, updatekeys,
 *     the filter's trust checks) are the keys the open uses;
 *   - an opened file, sealed again as `set` and `edit` do, opens to the
 *     same data under the same keys and the same data key (never more
 *     readers than the file named), and decrypt's one-shot form gives bytes
 *     that load to that data, or refuses (GS_ERR_VERIFY).
 *
 * Input: byte 0 picks the format (bits 0-1); the rest is the file. No
 * process is run and no Vault is asked (the environment is cleared). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "../../src/git/gitfilter_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the demo test key of keys/ (public in this repository) */
static const char identity_text[] =
	"AGE-SECRET-KEY-1EH2MRMPJQYUGK4GZJJFJVA5ZQ4E4X52KJDTYFRECCJLXW2KCW94S24NCT3\n";
static struct age_identity_list ids;

static const enum doc_format formats[] = { DOC_FORMAT_YAML, DOC_FORMAT_JSON, DOC_FORMAT_DOTENV,
					   DOC_FORMAT_INI };

static int open_as(const uint8_t *data, size_t size, enum doc_format format, bool reseal, struct sops_file **f)
{
	struct sops_open_opts oo = { .format = format, .ids = &ids, .reseal = reseal };
	int ret = sops_file_open(data, size, &oo, f);

	gs_error_clear();
	return ret;
}

/* The keys the metadata names, read as the filter reads them without a
 * data key, must be those the open used. */
static void keys_as_inspected(const uint8_t *data, size_t size, enum doc_format format, struct sops_file *f)
{
	struct sops_key_summary keys = { 0 };
	struct doc cipher;

	doc_init(&cipher, format);
	if (store_load(format, data, size, &cipher) < 0 || sops_doc_keys(&cipher, &keys) < 0)
		abort(); /* opened, yet its keys do not read */
	if (!gitseal_keys_equal(&keys, sops_file_keys(f)))
		abort();
	sops_key_summary_release(&keys);
	doc_release(&cipher);
}

/* Sealed again (what set and edit write when nothing changed): the same
 * data, keys and data key. */
static void reseal(struct sops_file *f, enum doc_format format)
{
	uint8_t id[SOPS_KEY_ID_SIZE], id2[SOPS_KEY_ID_SIZE];
	struct sops_file *g = NULL;
	struct gs_buf out;

	gs_buf_init(&out, false);
	if (sops_file_seal(f, sops_file_doc(f), NULL, &out) < 0)
		goto done; /* a refusal is allowed, a wrong file is not */
	if (open_as(out.data, out.len, format, true, &g) < 0)
		abort(); /* sealed and proven, yet it does not open */
	if (!doc_equal(sops_file_doc(g), sops_file_doc(f), NULL, 0) ||
	    !gitseal_keys_equal(sops_file_keys(g), sops_file_keys(f)))
		abort();
	if (sops_file_key_id(f, id) != sops_file_key_id(g, id2) || memcmp(id, id2, sizeof(id)) != 0)
		abort();
	sops_file_free(g);
done:
	gs_error_clear();
	gs_buf_release(&out);
}

/* decrypt's one-shot form: bytes that load to the opened data, or a
 * refusal (no layout gives it back). */
static void decrypt_once(const uint8_t *data, size_t size, enum doc_format format, struct sops_file *f)
{
	struct gs_buf out;
	struct doc back;
	int ret;

	gs_buf_init(&out, true);
	doc_init(&back, format);
	ret = sops_file_decrypt(data, size, format, &ids, NULL, &out);
	if (ret < 0 && ret != GS_ERR_VERIFY)
		abort(); /* it opened above */
	if (ret == 0 && (store_load(format, out.data, out.len, &back) < 0 ||
			 !doc_equal(&back, sops_file_doc(f), NULL, 0)))
		abort(); /* exit 0 would have lied */
	gs_error_clear();
	doc_release(&back);
	gs_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sops_file *reader = NULL, *editor = NULL;
	enum doc_format format;
	int r1, r2;

	if (!ready) {
		/* no key of the environment, no gpg run, no Vault asked: a file
		 * naming PGP or Vault keys fails them at once */
		static const char *const unset[] = { "SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "SOPS_AGE_KEY_FILE",
						     "SOPS_AGE_SSH_PRIVATE_KEY_CMD", "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
						     "VAULT_ADDR", "GITSEAL_VAULT_ADDRS", "VAULT_TOKEN" };

		for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
			unsetenv(unset[i]);
		if (setenv("SOPS_GPG_EXEC", "/nonexistent/gpg", 1) < 0 || gs_crypto_init() < 0 ||
		    age_identity_list_add_text(&ids, identity_text, sizeof(identity_text) - 1, "fuzz") < 0)
			abort();
		ready = 1;
	}
	if (size < 1 || size > 64 * 1024)
		return 0;
	format = formats[data[0] & 3];
	data++;
	size--;
	r1 = open_as(data, size, format, false, &reader);
	r2 = open_as(data, size, format, true, &editor);
	if ((r1 < 0) != (r2 < 0))
		abort();
	if (r1 == 0) {
		if (!doc_equal(sops_file_doc(reader), sops_file_doc(editor), NULL, 0))
			abort();
		keys_as_inspected(data, size, format, editor);
		decrypt_once(data, size, format, reader);
		reseal(editor, format);
	}
	sops_file_free(reader);
	sops_file_free(editor);
	return 0;
}
