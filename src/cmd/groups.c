/* gitseal groups add / delete: add or remove a key group of a sops file
 * (sops cmd/sops/subcommand/groups). The data key is kept and split anew
 * across the new set of groups (spec 9), so values and MAC stay. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "session.h"

static int parse_index(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = s ? strtoul(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || *s == '-')
		return GS_FAIL(GS_ERR_USAGE, "groups delete needs a group index");
	*out = v;
	return 0;
}

/* The group groups add makes: its --age, --hc-vault-transit and --pgp
 * keys, each split at commas (repeatable flags with no variable,
 * main.go:565-595). */
static int new_group(const struct sops_cli *c, struct sops_key_group *g)
{
	const char *const *given[] = { c->age, c->vault, c->pgp };
	const size_t counts[] = { c->age_count, c->vault_count, c->pgp_count };
	int (*const add[])(struct sops_key_group *, const char *) = {
		sops_key_group_add_age, sops_key_group_add_vault, sops_key_group_add_pgp,
	};
	size_t keys = 0;
	int ret = 0;

	for (size_t t = 0; ret == 0 && t < sizeof(add) / sizeof(add[0]); t++) {
		char **list = NULL;
		size_t n = 0;

		if ((ret = sops_cli_split(given[t], counts[t], &list, &n)) == 0)
			for (size_t i = 0; ret == 0 && i < n; i++)
				ret = add[t](g, list[i]);
		sops_cli_free_strings(list, n);
		keys += n;
	}
	if (ret == 0 && !keys)
		ret = GS_FAIL(GS_ERR_USAGE, "groups add needs keys (--age, --pgp, --hc-vault-transit)");
	return ret;
}

static int new_groups(const struct sops_cli *c, const struct sops_session *s, bool add,
		      const char *index_text, struct sops_key_group **out, size_t *n, int *threshold)
{
	size_t index = 0;
	struct sops_key_group *g = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	*threshold = c->shamir_threshold ? c->shamir_threshold : s->keys->shamir_threshold;
	if (!add) {
		if ((ret = parse_index(index_text, &index)) < 0)
			return ret;
		if (index >= s->keys->group_count)
			return GS_FAIL(GS_ERR_USAGE, "the file has %zu key groups: no group %zu", s->keys->group_count,
				       index);
		if (s->keys->group_count == 1)
			return GS_FAIL(GS_ERR_USAGE, "cannot delete the only key group");
	}
	if ((ret = sops_key_groups_copy(s->keys->groups, s->keys->group_count, &g)) < 0)
		return ret;
	if (add) {
		if ((ret = new_group(c, &g[s->keys->group_count])) < 0) {
			sops_key_groups_free(g, s->keys->group_count + 1);
			return ret;
		}
		*n = s->keys->group_count + 1;
	} else {
		struct sops_key_group gone = g[index];

		memmove(&g[index], &g[index + 1], (s->keys->group_count - index) * sizeof(*g));
		g[s->keys->group_count - 1] = gone; /* freed with the rest */
		*n = s->keys->group_count - 1;
		/* fewer groups than the threshold: sops lowers it */
		if (*threshold > (int)*n)
			*threshold = (int)*n;
	}
	*out = g;
	return 0;
}

int cmd_groups(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_session s;
	struct sops_key_group *groups = NULL;
	struct gs_buf out;
	const char *index_text = NULL;
	size_t n = 0;
	int threshold = 0, ret, code = EXIT_OK;
	bool add;

	if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "delete"))) {
		bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

		if (!help)
			cmd_errorf("groups needs a subcommand: add or delete");
		sops_command_usage(help ? stdout : stderr, sops_command_find("groups add"));
		fputc('\n', help ? stdout : stderr);
		sops_command_usage(help ? stdout : stderr, sops_command_find("groups delete"));
		return help ? EXIT_OK : EXIT_GENERIC;
	}
	add = !strcmp(argv[1], "add");
	gs_harden_process();
	sops_cli_init(&c, add ? "groups add" : "groups delete");
	sops_session_init(&s);
	s.writes_back = true;
	gs_buf_init(&out, false);
	if ((ret = sops_cli_parse(&c, argc - 1, argv + 1)) < 0)
		goto out;
	index_text = c.file;
	if (add && c.file) {
		ret = GS_FAIL(GS_ERR_USAGE, "groups add takes no positional arguments (use --file)");
		goto out;
	}
	if (!c.group_file) {
		cmd_errorf("%s needs --file", c.command);
		code = EXIT_SOPS_NO_FILE;
		goto done;
	}
	c.file = c.group_file;
	if ((ret = sops_session_open(&s, &c, true)) < 0 || (ret = sops_cli_check_foreign_keys(&c, false)) < 0 ||
	    (ret = new_groups(&c, &s, add, index_text, &groups, &n, &threshold)) < 0)
		goto out;
	ret = sops_session_seal(&s, s.plain, groups, n, threshold, false, &out);
	if (ret == GS_ERR_UNSUPPORTED_KEY && sops_cli_confirm_drop(&c, c.file)) {
		s.drop_unsupported_keys = true;
		ret = sops_session_seal(&s, s.plain, groups, n, threshold, false, &out);
	}
	if (ret == 0)
		ret = sops_cli_write(&c, out.data, out.len);
out:
	if (ret)
		code = sops_cli_fail(&c, ret);
done:
	sops_key_groups_free(groups, add ? n : n + 1);
	gs_buf_release(&out);
	sops_session_release(&s);
	sops_cli_release(&c);
	return code;
}
