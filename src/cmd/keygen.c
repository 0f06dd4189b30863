/* gitseal keygen: age-keygen compatible identity generation (-pq for the
 * post-quantum hybrid type, as age-keygen 1.3) and -y. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "options.h"
#include "gitseal/age.h"
#include "gitseal/alloc.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"

/* age-keygen's flags (cmd/age-keygen/keygen.go), -pq as age-keygen 1.3. */
enum keygen_option { KO_OUTPUT, KO_PQ, KO_RECIPIENTS, KO_COUNT };

static const struct opt keygen_options[KO_COUNT] = {
	[KO_OUTPUT] = { "output", "o", OPT_STRING, "OUTPUT", NULL,
			"write the identity to OUTPUT (created 0600; never overwritten)", false },
	[KO_PQ] = { "pq", NULL, OPT_BOOL, NULL, NULL,
		    "a post-quantum hybrid identity (ML-KEM-768 + X25519, age1pq1... recipient)", false },
	[KO_RECIPIENTS] = { "y", NULL, OPT_BOOL, NULL, NULL,
			    "print the recipients of the identity file INPUT (default stdin)", false },
};

static const int keygen_accepted[] = { KO_OUTPUT, KO_PQ, KO_RECIPIENTS, OPT_END };

static void usage(FILE *f)
{
	fputs("usage: gitseal keygen [-pq] [-o OUTPUT]\n"
	      "       gitseal keygen -y [-o OUTPUT] [INPUT]\n\nflags:\n", f);
	opt_usage(f, keygen_options, keygen_accepted);
	fputs("  -h, --help                      print this help\n", f);
}

enum { RECIPIENT_TEXT_MAX = 16384 };

/* RFC 3339 local time with seconds, 'Z' for UTC, as age-keygen writes it. */
static void format_created(char *out, size_t cap)
{
	struct timespec now = { 0 };
	struct tm tm;
	long off;
	char zone[40];

	/* not time(): see sops_time_now */
	(void)clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 labs(off) / 3600, labs(off) % 3600 / 60);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

static int generate(const char *output, bool pq)
{
	struct age_identity *id = NULL;
	char *secret = gs_secure_alloc(AGE_PQ_IDENTITY_LEN + 1);
	char *recipient = gs_malloc(AGE_PQ_RECIPIENT_LEN + 1), created[128];
	struct gs_buf text;
	struct stat st;
	FILE *f = stdout;
	int fd, ret;

	gs_buf_init(&text, true);
	if (!secret || !recipient) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	format_created(created, sizeof(created));
	if ((ret = pq ? age_identity_generate_pq(&id) : age_identity_generate(&id)) < 0 ||
	    (ret = age_identity_encode(id, secret, AGE_PQ_IDENTITY_LEN + 1)) < 0 ||
	    (ret = age_identity_recipient_string(id, recipient, AGE_PQ_RECIPIENT_LEN + 1)) < 0 ||
	    (ret = gs_buf_printf(&text, "# created: %s\n# public key: %s\n%s\n", created, recipient, secret)) < 0)
		goto out;
	if (output && strcmp(output, "-") != 0) {
		fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = GS_FAIL(GS_ERR_IO, "cannot create '%s': %s", gs_shown(output), strerror(errno));
			goto out;
		}
		f = fdopen(fd, "w");
		if (!f) {
			close(fd);
			ret = GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", gs_shown(output), strerror(errno));
			goto out;
		}
	} else if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0004)) {
		cmd_warnf("writing secret key to a world-readable file");
	}
	if (fwrite(text.data, 1, text.len, f) != text.len || fflush(f) != 0 ||
	    (f != stdout && fsync(fileno(f)) != 0))
		ret = GS_FAIL(GS_ERR_IO, "cannot write the identity: %s", strerror(errno));
	if (f != stdout && fclose(f) != 0 && !ret)
		ret = GS_FAIL(GS_ERR_IO, "cannot write '%s': %s", gs_shown(output), strerror(errno));
	if (ret && f != stdout)
		unlink(output);
	if (!ret && (f != stdout || !isatty(STDOUT_FILENO)))
		fprintf(stderr, "Public key: %s\n", recipient);
out:
	gs_buf_release(&text);
	gs_secure_free(secret);
	free(recipient);
	age_identity_free(id);
	return ret;
}

static int convert(const char *input, const char *output)
{
	struct age_identity_list ids = { 0 };
	struct gs_buf text, out;
	char *line = gs_malloc(RECIPIENT_TEXT_MAX);
	const char *name = input ? input : "-";
	int ret;

	gs_buf_init(&text, true);
	gs_buf_init(&out, false);
	if (!line)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = gs_read_file(name, &text, 16 * 1024 * 1024)) < 0 ||
	    (ret = age_identity_list_add_file_text(&ids, (const char *)text.data, text.len, name)) < 0)
		goto out;
	for (size_t i = 0; i < ids.count; i++)
		if ((ret = age_identity_recipient_string(ids.items[i], line, RECIPIENT_TEXT_MAX)) < 0 ||
		    (ret = gs_buf_printf(&out, "%s\n", line)) < 0)
			goto out;
	if (output && strcmp(output, "-") != 0)
		ret = gs_atomic_write(output, out.data, out.len, 0644);
	else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		ret = GS_FAIL(GS_ERR_IO, "cannot write to standard output");
out:
	free(line);
	gs_buf_release(&out);
	gs_buf_release(&text);
	age_identity_list_release(&ids);
	return ret;
}

/* As Go's flag package reads age-keygen's command line: the flags, then
 * INPUT (-y only). */
static int parse_args(int argc, char **argv, struct opt_value *v, const char **input, bool *help)
{
	struct opt_parser p = { .table = keygen_options, .table_len = KO_COUNT, .accepted = keygen_accepted,
				.stop_at_word = true, .values = v };
	int ret;

	if ((ret = opt_parse(&p, argc, argv, 1)) < 0 || (*help = p.help))
		return ret;
	if (v[KO_PQ].on && v[KO_RECIPIENTS].on)
		return GS_FAIL(GS_ERR_USAGE, "-pq can't be used with -y");
	if (p.next < argc && (!v[KO_RECIPIENTS].on || p.next + 1 < argc))
		return GS_FAIL(GS_ERR_USAGE, "too many arguments");
	*input = p.next < argc ? argv[p.next] : NULL;
	return 0;
}

int cmd_keygen(int argc, char **argv)
{
	struct opt_value v[KO_COUNT] = { 0 };
	const char *input = NULL;
	bool help = false;
	int ret;

	gs_harden_process();
	if ((ret = parse_args(argc, argv, v, &input, &help)) < 0)
		goto out;
	if (help)
		usage(stdout);
	else if (v[KO_RECIPIENTS].on)
		ret = convert(input, v[KO_OUTPUT].text);
	else
		ret = generate(v[KO_OUTPUT].text, v[KO_PQ].on);
out:
	if (ret)
		cmd_print_error();
	return cmd_age_exit_code(ret);
}
