/* gitseal age: the age v1 command line, mirroring the age CLI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "flags.h"
#include "gitseal/age.h"
#include "gitseal/io.h"
#include "prompt.h"

/* Plaintext for stdout is held back until the whole file authenticated,
 * up to this size; past it, chunks stream out as they authenticate (use
 * -o for all-or-nothing output of any size). */
enum { STDOUT_HOLD_BACK = 16 * 1024 * 1024, KEY_FILE_MAX = 16 * 1024 * 1024 };

static const char usage_text[] =
	"usage: gitseal age [-e] (-r RECIPIENT | -R PATH)... [--allow-mixed] [-a] [-o OUTPUT] [INPUT]\n"
	"       gitseal age [-e] -p [-a] [-o OUTPUT] [INPUT]\n"
	"       gitseal age -d [-i PATH]... [-o OUTPUT] [INPUT]\n"
	"\n"
	"  -e, --encrypt            encrypt (the default)\n"
	"  -d, --decrypt            decrypt (armor is detected)\n"
	"  -o, --output OUTPUT      write to OUTPUT, atomically, only once the whole input succeeded\n"
	"  -a, --armor              encrypt to a PEM-style ASCII armor\n"
	"  -p, --passphrase         encrypt with a passphrase (terminal, or $GITSEAL_PASSPHRASE)\n"
	"  -r, --recipient R        age1..., age1pq1..., ssh-ed25519 ... or ssh-rsa ... (repeatable)\n"
	"  -R, --recipients-file P  recipients listed in a file, '-' for stdin (repeatable)\n"
	"  -i, --identity PATH      identity file (age keys or an SSH private key; repeatable)\n"
	"      --allow-mixed        encrypt to post-quantum (age1pq1...) and classic recipients together,\n"
	"                           which age 1.3 refuses: the file is then open to a quantum computer\n";

struct age_opts {
	bool encrypt, decrypt, armor, passphrase, allow_mixed;
	const char *output;
	const char *input;
	const char **recipients;
	size_t recipient_count;
	const char **recipient_files;
	size_t recipient_file_count;
	const char **identity_files;
	size_t identity_file_count;
	bool stdin_used;
};

static int parse_args(int argc, char **argv, struct age_opts *o)
{
	struct flag_iter it;
	const char *v;
	int ret = 0;

	flag_iter_init(&it, argc, argv);
	while (!ret && flag_next(&it)) {
		if (flag_is(&it, "e", "encrypt")) {
			o->encrypt = true;
		} else if (flag_is(&it, "d", "decrypt")) {
			o->decrypt = true;
		} else if (flag_is(&it, "a", "armor")) {
			o->armor = true;
		} else if (flag_is(&it, "p", "passphrase")) {
			o->passphrase = true;
		} else if (flag_is(&it, NULL, "allow-mixed")) {
			o->allow_mixed = true;
		} else if (flag_is(&it, "h", "help")) {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		} else if (flag_is(&it, "o", "output")) {
			if (!(o->output = flag_value(&it)))
				return GS_ERR_USAGE;
		} else if (flag_is(&it, "r", "recipient")) {
			ret = (v = flag_value(&it)) ? cmd_push_arg(&o->recipients, &o->recipient_count, v) : GS_ERR_USAGE;
		} else if (flag_is(&it, "R", "recipients-file")) {
			ret = (v = flag_value(&it)) ? cmd_push_arg(&o->recipient_files, &o->recipient_file_count, v) : GS_ERR_USAGE;
		} else if (flag_is(&it, "i", "identity")) {
			ret = (v = flag_value(&it)) ? cmd_push_arg(&o->identity_files, &o->identity_file_count, v) : GS_ERR_USAGE;
		} else {
			return GS_FAIL(GS_ERR_USAGE, "flag provided but not defined: -%s", it.name);
		}
	}
	if (ret)
		return ret;
	if (it.i < argc)
		o->input = argv[it.i];
	if (it.i + 1 < argc)
		return GS_FAIL(GS_ERR_USAGE, "too many INPUT arguments: \"%s\" (flags must come before INPUT)",
			       argv[it.i + 1]);
	if (o->decrypt) {
		if (o->encrypt)
			return GS_FAIL(GS_ERR_USAGE, "-e/--encrypt can't be used with -d/--decrypt");
		if (o->armor)
			return GS_FAIL(GS_ERR_USAGE, "-a/--armor can't be used with -d/--decrypt (armor is detected automatically)");
		if (o->passphrase)
			return GS_FAIL(GS_ERR_USAGE, "-p/--passphrase can't be used with -d/--decrypt");
		if (o->recipient_count || o->recipient_file_count)
			return GS_FAIL(GS_ERR_USAGE, "-r/-R can't be used with -d/--decrypt");
		if (o->allow_mixed)
			return GS_FAIL(GS_ERR_USAGE, "--allow-mixed can't be used with -d/--decrypt");
	} else {
		if (o->identity_file_count && !o->encrypt)
			return GS_FAIL(GS_ERR_USAGE, "-i/--identity can't be used in encryption mode unless -e is given");
		if (o->passphrase && (o->recipient_count || o->recipient_file_count || o->identity_file_count))
			return GS_FAIL(GS_ERR_USAGE, "-p/--passphrase can't be combined with -r, -R or -i");
		if (!o->passphrase && !o->recipient_count && !o->recipient_file_count &&
		    !o->identity_file_count)
			return GS_FAIL(GS_ERR_USAGE, "missing recipients (-r, -R or -p)");
	}
	return 0;
}

/* "-" means stdin, which may serve one purpose only. */
static int read_key_file(struct age_opts *o, const char *path, struct gs_buf *text)
{
	if (!strcmp(path, "-")) {
		if (o->stdin_used)
			return GS_FAIL(GS_ERR_USAGE, "standard input is used for multiple purposes");
		o->stdin_used = true;
	}
	return gs_read_file(path, text, KEY_FILE_MAX);
}

static int load_identities(struct age_opts *o, struct age_identity_list *ids)
{
	struct gs_buf text;
	int ret = 0;

	for (size_t i = 0; !ret && i < o->identity_file_count; i++) {
		gs_buf_init(&text, true);
		ret = read_key_file(o, o->identity_files[i], &text);
		if (!ret)
			ret = age_identity_list_add_text(ids, (const char *)text.data, text.len,
							 o->identity_files[i]);
		gs_buf_release(&text);
	}
	return ret;
}

static int load_recipients(struct age_opts *o, struct age_recipient_list *rl)
{
	struct age_identity_list ids = { 0 };
	struct age_recipient *r;
	struct gs_buf text;
	char line[16384];
	int ret = 0;

	for (size_t i = 0; !ret && i < o->recipient_count; i++) {
		ret = age_recipient_parse(o->recipients[i], &r);
		if (!ret && (ret = age_recipient_list_add(rl, r)))
			age_recipient_free(r);
	}
	for (size_t i = 0; !ret && i < o->recipient_file_count; i++) {
		gs_buf_init(&text, false);
		ret = read_key_file(o, o->recipient_files[i], &text);
		if (!ret)
			ret = age_recipient_list_add_file_text(rl, (const char *)text.data, text.len,
							       o->recipient_files[i]);
		gs_buf_release(&text);
	}
	/* With an explicit -e, -i encrypts to the identities' own recipients. */
	if (!ret && o->identity_file_count) {
		ret = load_identities(o, &ids);
		for (size_t i = 0; !ret && i < ids.count; i++) {
			ret = age_identity_recipient_string(ids.items[i], line, sizeof(line));
			if (!ret)
				ret = age_recipient_parse(line, &r);
			if (!ret && (ret = age_recipient_list_add(rl, r)))
				age_recipient_free(r);
		}
		age_identity_list_release(&ids);
	}
	return ret;
}

/* Replays bytes already peeked at, then reads on from the file. */
struct peek_reader {
	uint8_t *head;
	size_t head_len, head_pos;
	FILE *f;
};

static int peek_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct peek_reader *p = ctx;
	size_t n = p->head_len - p->head_pos;
	struct gs_reader file;

	if (n) {
		if (n > cap)
			n = cap;
		memcpy(buf, p->head + p->head_pos, n);
		p->head_pos += n;
		*got = n;
		return 0;
	}
	file = gs_reader_from_file(p->f);
	return file.read(file.ctx, buf, cap, got);
}

/* Output for decryption to stdout: held back until success, up to a limit. */
struct held_output {
	struct gs_buf held;
	bool streaming;
	FILE *f;
};

static int held_write(void *ctx, const uint8_t *buf, size_t n)
{
	struct held_output *h = ctx;
	struct gs_writer w = gs_writer_to_file(h->f);
	int ret;

	if (!h->streaming && h->held.len + n <= STDOUT_HOLD_BACK)
		return gs_buf_append(&h->held, buf, n);
	if (!h->streaming) {
		h->streaming = true;
		ret = w.write(w.ctx, h->held.data, h->held.len);
		gs_buf_release(&h->held);
		if (ret)
			return ret;
	}
	return w.write(w.ctx, buf, n);
}

static int run_decrypt(struct age_opts *o, FILE *in, struct gs_writer *sink)
{
	struct age_identity_list ids = { 0 };
	struct peek_reader peek = { 0 };
	struct gs_reader reader;
	struct gs_buf pass;
	uint8_t head[4096];
	bool passphrase_file;
	int ret;

	ret = load_identities(o, &ids);
	if (ret)
		goto out;
	peek.f = in;
	peek.head = head;
	peek.head_len = fread(head, 1, sizeof(head), in);
	if (ferror(in)) {
		ret = GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", o->input ? o->input : "-", strerror(errno));
		goto out;
	}
	passphrase_file = age_is_passphrase_file(head, peek.head_len);
	if (passphrase_file && o->identity_file_count) {
		ret = GS_FAIL(GS_ERR_USAGE, "file is passphrase-encrypted but identities were specified with -i");
		goto out;
	}
	/* Without -i, a passphrase given in the environment is tried whatever
	 * the stanzas are, as age tries its passphrase identity. */
	if (!o->identity_file_count && (passphrase_file || getenv("GITSEAL_PASSPHRASE"))) {
		gs_buf_init(&pass, true);
		ret = prompt_passphrase("Enter passphrase: ", false, &pass);
		if (!ret)
			ret = age_identity_list_add_passphrase(&ids, (const char *)pass.data, pass.len);
		gs_buf_release(&pass);
		if (ret)
			goto out;
	}
	/* With no identity, as age: a malformed header is still reported as
	 * such; a good one tells the user what is missing. Identity files
	 * whose every key was skipped (unknown types, with a warning each)
	 * leave none: the file then finds no match. */
	reader = (struct gs_reader){ peek_read, &peek };
	ret = age_decrypt(&ids, &reader, sink);
	if (ret == GS_ERR_AGE_NO_MATCH && !ids.count && !o->identity_file_count)
		ret = GS_FAIL(GS_ERR_USAGE, "missing identity file (-i)");
out:
	sodium_memzero(head, sizeof(head));
	age_identity_list_release(&ids);
	return ret;
}

static int run_encrypt(struct age_opts *o, FILE *in, struct gs_writer *sink)
{
	const struct age_encrypt_opts opts = { .armor = o->armor, .allow_mixed = o->allow_mixed };
	struct age_recipient_list rl = { 0 };
	struct age_recipient *r;
	struct gs_reader reader = gs_reader_from_file(in);
	struct gs_buf pass;
	int ret = 0;

	if (o->passphrase) {
		gs_buf_init(&pass, true);
		ret = prompt_passphrase("Enter passphrase: ", true, &pass);
		if (!ret)
			ret = age_recipient_scrypt((const char *)pass.data, pass.len,
						   AGE_SCRYPT_LOG_N_DEFAULT, &r);
		gs_buf_release(&pass);
		if (!ret && (ret = age_recipient_list_add(&rl, r)))
			age_recipient_free(r);
	} else {
		ret = load_recipients(o, &rl);
	}
	if (!ret)
		ret = age_encrypt_with(&rl, &opts, &reader, sink);
	age_recipient_list_release(&rl);
	return ret;
}

int cmd_age(int argc, char **argv)
{
	struct age_opts o = { 0 };
	struct gs_atomic_file af = { 0 };
	struct held_output held = { .f = stdout };
	struct gs_writer sink;
	FILE *in = stdin;
	bool to_stdout;
	int ret;

	gs_harden_process();
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	ret = parse_args(argc, argv, &o);
	if (ret)
		goto out;
	to_stdout = !o.output || !strcmp(o.output, "-");
	if (o.input && strcmp(o.input, "-") != 0) {
		in = fopen(o.input, "rb");
		if (!in) {
			ret = GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", o.input, strerror(errno));
			goto out;
		}
	} else {
		o.stdin_used = true;
	}
	if (!o.decrypt && !o.armor && !o.output && isatty(STDOUT_FILENO)) {
		ret = GS_FAIL(GS_ERR_USAGE, "refusing to output binary to the terminal (use -a, or -o - to force)");
		goto out;
	}
	if (!to_stdout) {
		ret = gs_atomic_open(&af, o.output, 0666 & ~0022);
		if (ret)
			goto out;
		sink = gs_writer_to_file(af.f);
	} else if (o.decrypt) {
		gs_buf_init(&held.held, true);
		sink = (struct gs_writer){ held_write, &held };
	} else {
		sink = gs_writer_to_file(stdout);
	}

	ret = o.decrypt ? run_decrypt(&o, in, &sink) : run_encrypt(&o, in, &sink);

	if (!to_stdout) {
		if (!ret)
			ret = gs_atomic_commit(&af);
		else
			gs_atomic_abort(&af);
	} else if (o.decrypt && !held.streaming && !ret) {
		struct gs_writer w = gs_writer_to_file(stdout);

		ret = w.write(w.ctx, held.held.data, held.held.len);
	}
	if (!ret && fflush(stdout) != 0)
		ret = GS_FAIL(GS_ERR_IO, "cannot write to standard output: %s", strerror(errno));
out:
	gs_buf_release(&held.held);
	if (in && in != stdin)
		fclose(in);
	free(o.recipients);
	free(o.recipient_files);
	free(o.identity_files);
	if (ret) {
		bool about_input = ret == GS_ERR_AGE_ARMOR || ret == GS_ERR_AGE_HEADER ||
				   ret == GS_ERR_AGE_NO_MATCH || ret == GS_ERR_AGE_HMAC ||
				   ret == GS_ERR_AGE_PAYLOAD;

		if (o.input && about_input)
			gs_error_prefix("'%s'", o.input);
		cmd_print_error();
		if (ret == GS_ERR_USAGE)
			fputs("run 'gitseal age --help' for usage\n", stderr);
	}
	return cmd_age_exit_code(ret);
}
