/* gitseal age: the age v1 command line, mirroring the age CLI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cmd.h"
#include "options.h"
#include "gitseal/age.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "prompt.h"

/* Plaintext for stdout is held back until the whole file authenticated,
 * up to this size; past it, chunks stream out as they authenticate (use
 * -o for all-or-nothing output of any size). */
enum { STDOUT_HOLD_BACK = 16 * 1024 * 1024, KEY_FILE_MAX = 16 * 1024 * 1024 };

/* age's flags (cmd/age/age.go), and gitseal's --allow-mixed. */
enum age_option {
	AO_ENCRYPT, AO_DECRYPT, AO_OUTPUT, AO_ARMOR, AO_PASSPHRASE, AO_RECIPIENT, AO_RECIPIENTS_FILE,
	AO_IDENTITY, AO_ALLOW_MIXED, AO_COUNT
};

static const struct opt age_options[AO_COUNT] = {
	[AO_ENCRYPT] = { "encrypt", "e", OPT_BOOL, NULL, NULL, "encrypt the input (the default)", false },
	[AO_DECRYPT] = { "decrypt", "d", OPT_BOOL, NULL, NULL, "decrypt the input (armor is detected)", false },
	[AO_OUTPUT] = { "output", "o", OPT_STRING, "OUTPUT", NULL,
			"write to OUTPUT, atomically, once the whole input succeeded", false },
	[AO_ARMOR] = { "armor", "a", OPT_BOOL, NULL, NULL, "encrypt to a PEM-style ASCII armor", false },
	[AO_PASSPHRASE] = { "passphrase", "p", OPT_BOOL, NULL, NULL,
			    "encrypt with a passphrase (terminal, or $GITSEAL_PASSPHRASE)", false },
	[AO_RECIPIENT] = { "recipient", "r", OPT_LIST, "RECIPIENT", NULL,
			   "age1..., age1pq1..., ssh-ed25519 ... or ssh-rsa ... (repeatable)", false },
	[AO_RECIPIENTS_FILE] = { "recipients-file", "R", OPT_LIST, "PATH", NULL,
				 "recipients listed in a file, '-' for stdin (repeatable)", false },
	[AO_IDENTITY] = { "identity", "i", OPT_LIST, "PATH", NULL,
			  "identity file (age keys or an SSH private key; repeatable)", false },
	[AO_ALLOW_MIXED] = { "allow-mixed", NULL, OPT_BOOL, NULL, NULL,
			     "allow age1pq1... and classic recipients together, which age 1.3 refuses "
			     "(the file is then open to a quantum computer)", false },
};

static const int age_accepted[] = {
	AO_ENCRYPT, AO_DECRYPT, AO_OUTPUT, AO_ARMOR, AO_PASSPHRASE, AO_RECIPIENT, AO_RECIPIENTS_FILE,
	AO_IDENTITY, AO_ALLOW_MIXED, OPT_END
};

static void usage(FILE *f)
{
	fputs("usage: gitseal age [-e] (-r RECIPIENT | -R PATH)... [--allow-mixed] [-a] [-o OUTPUT] [INPUT]\n"
	      "       gitseal age [-e] -p [-a] [-o OUTPUT] [INPUT]\n"
	      "       gitseal age -d [-i PATH]... [-o OUTPUT] [INPUT]\n\nflags (before INPUT, as age takes them):\n",
	      f);
	opt_usage(f, age_options, age_accepted);
	fputs("  -h, --help                      print this help\n", f);
}

struct age_opts {
	struct opt_value values[AO_COUNT];
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
	bool help;
};

static void take_values(struct age_opts *o)
{
	const struct opt_value *v = o->values;

	o->encrypt = v[AO_ENCRYPT].on;
	o->decrypt = v[AO_DECRYPT].on;
	o->armor = v[AO_ARMOR].on;
	o->passphrase = v[AO_PASSPHRASE].on;
	o->allow_mixed = v[AO_ALLOW_MIXED].on;
	o->output = v[AO_OUTPUT].text;
	o->recipients = v[AO_RECIPIENT].list;
	o->recipient_count = v[AO_RECIPIENT].count;
	o->recipient_files = v[AO_RECIPIENTS_FILE].list;
	o->recipient_file_count = v[AO_RECIPIENTS_FILE].count;
	o->identity_files = v[AO_IDENTITY].list;
	o->identity_file_count = v[AO_IDENTITY].count;
}

/* The flags age refuses together (age.go main), in its words. */
static int check_combination(const struct age_opts *o)
{
	bool recipients = o->recipient_count || o->recipient_file_count;

	if (o->decrypt) {
		if (o->encrypt)
			return GS_FAIL(GS_ERR_USAGE, "-e/--encrypt can't be used with -d/--decrypt");
		if (o->armor)
			return GS_FAIL(GS_ERR_USAGE, "-a/--armor can't be used with -d/--decrypt (armor is detected automatically)");
		if (o->passphrase)
			return GS_FAIL(GS_ERR_USAGE, "-p/--passphrase can't be used with -d/--decrypt");
		if (recipients)
			return GS_FAIL(GS_ERR_USAGE, "-r/-R can't be used with -d/--decrypt");
		if (o->allow_mixed)
			return GS_FAIL(GS_ERR_USAGE, "--allow-mixed can't be used with -d/--decrypt");
		return 0;
	}
	if (o->identity_file_count && !o->encrypt)
		return GS_FAIL(GS_ERR_USAGE, "-i/--identity can't be used in encryption mode unless -e is given");
	if (o->passphrase && (recipients || o->identity_file_count))
		return GS_FAIL(GS_ERR_USAGE, "-p/--passphrase can't be combined with -r, -R or -i");
	if (!o->passphrase && !recipients && !o->identity_file_count)
		return GS_FAIL(GS_ERR_USAGE, "missing recipients (-r, -R or -p)");
	return 0;
}

/* As Go's flag package reads age's command line: the flags, then INPUT
 * (a flag after it is a second INPUT). */
static int parse_args(int argc, char **argv, struct age_opts *o)
{
	struct opt_parser p = { .table = age_options, .table_len = AO_COUNT, .accepted = age_accepted,
				.stop_at_word = true, .values = o->values };
	int ret;

	if ((ret = opt_parse(&p, argc, argv, 1)) < 0 || (o->help = p.help))
		return ret;
	take_values(o);
	if (p.next < argc)
		o->input = argv[p.next];
	if (p.next + 1 < argc)
		return GS_FAIL(GS_ERR_USAGE, "too many INPUT arguments: \"%s\" (flags must come before INPUT)",
			       gs_shown(argv[p.next + 1]));
	return check_combination(o);
}

static void age_opts_release(struct age_opts *o)
{
	for (size_t i = 0; i < AO_COUNT; i++)
		free(o->values[i].list);
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

	for (size_t i = 0; ret == 0 && i < o->identity_file_count; i++) {
		gs_buf_init(&text, true);
		if ((ret = read_key_file(o, o->identity_files[i], &text)) == 0)
			ret = age_identity_list_add_file_text(ids, (const char *)text.data, text.len,
							      o->identity_files[i]);
		gs_buf_release(&text);
	}
	return ret;
}

static int add_recipient(struct age_recipient_list *rl, const char *text)
{
	struct age_recipient *r;
	int ret;

	/* named as age names it, unless it is a secret key given by mistake */
	if ((ret = age_recipient_parse(text, &r)) < 0) {
		if (ret != GS_ERR_NOMEM && !age_recipient_text_is_secret(text))
			gs_error_prefix("recipient '%s'", gs_shown(text));
		return ret;
	}
	if ((ret = age_recipient_list_add(rl, r)) < 0)
		age_recipient_free(r);
	return ret;
}

/* With an explicit -e, -i encrypts to the identities' own recipients. */
static int add_identities_recipients(struct age_opts *o, struct age_recipient_list *rl)
{
	struct age_identity_list ids = { 0 };
	char line[16384];
	int ret;

	if ((ret = load_identities(o, &ids)) < 0)
		goto out;
	for (size_t i = 0; i < ids.count; i++)
		if ((ret = age_identity_recipient_string(ids.items[i], line, sizeof(line))) < 0 ||
		    (ret = add_recipient(rl, line)) < 0)
			goto out;
out:
	age_identity_list_release(&ids);
	return ret;
}

static int load_recipients(struct age_opts *o, struct age_recipient_list *rl)
{
	struct gs_buf text;
	int ret;

	for (size_t i = 0; i < o->recipient_count; i++)
		if ((ret = add_recipient(rl, o->recipients[i])) < 0)
			return ret;
	for (size_t i = 0; i < o->recipient_file_count; i++) {
		gs_buf_init(&text, false);
		if ((ret = read_key_file(o, o->recipient_files[i], &text)) == 0)
			ret = age_recipient_list_add_file_text(rl, (const char *)text.data, text.len,
							       o->recipient_files[i]);
		gs_buf_release(&text);
		if (ret < 0)
			return ret;
	}
	return o->identity_file_count ? add_identities_recipients(o, rl) : 0;
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

/* Output for decryption to stdout: held back until success, up to a limit,
 * then written with write(2) (stdio's buffer would copy plaintext to
 * unlocked memory). */
struct held_output {
	struct gs_buf held;
	bool streaming;
	int fd;
};

static int held_write(void *ctx, const uint8_t *buf, size_t n)
{
	struct held_output *h = ctx;
	struct gs_writer w = gs_writer_to_fd(&h->fd);
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

/* A large regular file: the payload's cipher loads beside the first chunks. */
static void expect_size(FILE *in)
{
	struct stat st;

	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
		age_expect_payload((uint64_t)st.st_size);
}

static __attribute__((noinline)) int run_decrypt(struct age_opts *o, FILE *in, struct gs_writer *sink)
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
		ret = GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(o->input ? o->input : "-"), strerror(errno));
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
		if ((ret = prompt_passphrase("Enter passphrase: ", false, &pass)) == 0)
			ret = age_identity_list_add_passphrase(&ids, (const char *)pass.data, pass.len);
		gs_buf_release(&pass);
		if (ret)
			goto out;
	}
	/* With no identity, as age: a malformed header is still reported as
	 * such; a good one tells the user what is missing. Identity files
	 * whose every key was skipped (unknown types, with a warning each)
	 * leave none: the file then finds no match. */
	reader = (struct gs_reader){ peek_read, &peek, NULL };
	expect_size(in);
	ret = age_decrypt(&ids, &reader, sink);
	if (ret == GS_ERR_AGE_NO_MATCH && !ids.count && !o->identity_file_count)
		ret = GS_FAIL(GS_ERR_USAGE, "missing identity file (-i)");
out:
	sodium_memzero(head, sizeof(head));
	age_identity_list_release(&ids);
	return ret;
}

/* The work factor of -p: the default, or in the test build
 * GITSEAL_TEST_SCRYPT_LOG_N, so that a test about something else than the
 * work factor does not pay a derivation at the default (1.4 s of CPU,
 * more under the sanitizers). Release builds compile it out. */
static int passphrase_log_n(void)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *s = getenv("GITSEAL_TEST_SCRYPT_LOG_N");

	if (s && *s)
		return atoi(s);
#endif
	return AGE_SCRYPT_LOG_N_DEFAULT;
}

static int add_passphrase_recipient(struct age_recipient_list *rl)
{
	struct age_recipient *r;
	struct gs_buf pass;
	int ret;

	gs_buf_init(&pass, true);
	if ((ret = prompt_passphrase("Enter passphrase: ", true, &pass)) == 0)
		ret = age_recipient_scrypt((const char *)pass.data, pass.len, passphrase_log_n(), &r);
	gs_buf_release(&pass);
	if (ret < 0)
		return ret;
	if ((ret = age_recipient_list_add(rl, r)) < 0)
		age_recipient_free(r);
	return ret;
}

static int run_encrypt(struct age_opts *o, FILE *in, struct gs_writer *sink)
{
	const struct age_encrypt_opts opts = { .armor = o->armor, .allow_mixed = o->allow_mixed };
	struct age_recipient_list rl = { 0 };
	struct gs_reader reader = gs_reader_from_file(in);
	int ret;

	if ((ret = o->passphrase ? add_passphrase_recipient(&rl) : load_recipients(o, &rl)) == 0) {
		expect_size(in);
		ret = age_encrypt_with(&rl, &opts, &reader, sink);
	}
	age_recipient_list_release(&rl);
	return ret;
}

/* Where the output goes: a temporary file renamed over OUTPUT once all
 * succeeded, plaintext on stdout held back (up to a limit), or stdout.
 * An OUTPUT that cannot be replaced (/dev/stdout, a pipe, a device) is
 * written as stdout is, as the sops commands write it. */
struct age_output {
	bool to_stdout;
	bool direct; /* OUTPUT opened as held.fd */
	struct gs_atomic_file file;
	struct held_output held;
	struct gs_writer sink;
};

static int output_open(const struct age_opts *o, struct age_output *out)
{
	int ret;

	out->to_stdout = !o->output || !strcmp(o->output, "-");
	out->held.fd = STDOUT_FILENO;
	gs_buf_init(&out->held.held, true);
	if (!o->decrypt && !o->armor && !o->output && isatty(STDOUT_FILENO))
		return GS_FAIL(GS_ERR_USAGE, "refusing to output binary to the terminal (use -a, or -o - to force)");
	if (!out->to_stdout && gs_output_is_direct(o->output)) {
		if ((ret = gs_output_open_direct(o->output)) < 0)
			return ret;
		out->held.fd = ret;
		out->direct = true;
	}
	if (!out->to_stdout && !out->direct) {
		if ((ret = gs_atomic_open(&out->file, o->output, 0666 & ~0022)) < 0)
			return ret;
		setvbuf(out->file.f, NULL, _IONBF, 0);
		out->sink = gs_writer_to_file(out->file.f);
	} else if (o->decrypt) {
		out->sink = (struct gs_writer){ held_write, &out->held, NULL };
	} else if (out->direct) {
		out->sink = gs_writer_to_fd(&out->held.fd);
	} else {
		out->sink = gs_writer_to_file(stdout);
	}
	return 0;
}

/* Commits (ret 0) or drops what was written; returns the final result. */
static int output_close(const struct age_opts *o, struct age_output *out, int ret)
{
	struct gs_writer w = gs_writer_to_fd(&out->held.fd);

	if (!out->to_stdout && !out->direct) {
		if (ret)
			gs_atomic_abort(&out->file);
		else
			ret = gs_atomic_commit(&out->file);
	} else if (o->decrypt && !out->held.streaming && !ret) {
		ret = w.write(w.ctx, out->held.held.data, out->held.held.len);
	}
	if (out->direct && close(out->held.fd) != 0 && !ret)
		ret = GS_FAIL(GS_ERR_IO, "cannot write '%s': %s", gs_shown(o->output), strerror(errno));
	if (!ret && fflush(stdout) != 0)
		ret = GS_FAIL(GS_ERR_IO, "cannot write to standard output: %s", strerror(errno));
	gs_buf_release(&out->held.held);
	return ret;
}

static int report(const struct age_opts *o, int ret)
{
	bool about_input = ret == GS_ERR_AGE_ARMOR || ret == GS_ERR_AGE_HEADER || ret == GS_ERR_AGE_NO_MATCH ||
			   ret == GS_ERR_AGE_HMAC || ret == GS_ERR_AGE_PAYLOAD;

	if (o->input && about_input)
		gs_error_prefix("'%s'", gs_shown(o->input));
	/* the sinks' "write error" says not where: the output, a file or standard output */
	else if (ret == GS_ERR_IO && !strncmp(gs_error_message(), "write error", 11))
		gs_error_prefix(o->output && strcmp(o->output, "-") ? "'%s'" : "%s",
				o->output && strcmp(o->output, "-") ? o->output : "standard output");
	cmd_print_error();
	if (ret == GS_ERR_USAGE)
		fputs("run 'gitseal age --help' for usage\n", stderr);
	return cmd_age_exit_code(ret);
}

int cmd_age(int argc, char **argv)
{
	struct age_opts o = { 0 };
	struct age_output out = { 0 };
	FILE *in = stdin;
	int ret;

	gs_harden_process();
	/* age: no arguments at all print the usage, exit 1 */
	if (argc < 2) {
		usage(stderr);
		return EXIT_GENERIC;
	}
	if ((ret = parse_args(argc, argv, &o)) < 0)
		goto out;
	if (o.help) {
		usage(stdout);
		goto out;
	}
	if (o.input && strcmp(o.input, "-") != 0) {
		if (!(in = fopen(o.input, "rb"))) {
			ret = GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", gs_shown(o.input), strerror(errno));
			goto out;
		}
	} else {
		o.stdin_used = true;
	}
	/* the age code reads and writes in chunks of 64 KiB and more, and
	 * buffers headers itself: stdio's 4 KiB buffer only split each read
	 * and write in two (a system call and a copy more per chunk) */
	setvbuf(in, NULL, _IONBF, 0);
	if ((ret = output_open(&o, &out)) == 0)
		ret = o.decrypt ? run_decrypt(&o, in, &out.sink) : run_encrypt(&o, in, &out.sink);
	ret = output_close(&o, &out, ret);
out:
	if (in && in != stdin)
		fclose(in);
	if (ret)
		ret = report(&o, ret);
	age_opts_release(&o);
	return ret;
}
