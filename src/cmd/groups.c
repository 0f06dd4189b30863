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

static int new_groups(const struct sops_cli *c, const struct sops_session *s, bool add,
		      const char *index_text, struct sops_key_group **out, size_t *n, int *threshold)
{
	char **age = NULL, **vault = NULL, **pgp = NULL;
	size_t age_count = 0, vault_count = 0, pgp_count = 0, index = 0;
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
		/* repeatable flags with no variable (main.go:565-595) */
		ret = sops_cli_split(c->age, c->age_count, &age, &age_count);
		if (!ret)
			ret = sops_cli_split(c->vault, c->vault_count, &vault, &vault_count);
		if (!ret)
			ret = sops_cli_split(c->pgp, c->pgp_count, &pgp, &pgp_count);
		for (size_t i = 0; !ret && i < age_count; i++)
			ret = sops_key_group_add_age(&g[s->keys->group_count], age[i]);
		for (size_t i = 0; !ret && i < vault_count; i++)
			ret = sops_key_group_add_vault(&g[s->keys->group_count], vault[i]);
		for (size_t i = 0; !ret && i < pgp_count; i++)
			ret = sops_key_group_add_pgp(&g[s->keys->group_count], pgp[i]);
		if (!ret && !age_count && !vault_count && !pgp_count)
			ret = GS_FAIL(GS_ERR_USAGE, "groups add needs keys (--age, --pgp, --hc-vault-transit)");
		sops_cli_free_strings(age, age_count);
		sops_cli_free_strings(vault, vault_count);
		sops_cli_free_strings(pgp, pgp_count);
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
	if (ret) {
		sops_key_groups_free(g, s->keys->group_count + 1);
		return ret;
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
	gs_buf_init(&out, false);
	ret = sops_cli_parse(&c, argc - 1, argv + 1);
	if (ret)
		goto out;
	index_text = c.file;
	if (add && c.file)
		ret = GS_FAIL(GS_ERR_USAGE, "groups add takes no positional arguments (use --file)");
	if (!ret && !c.group_file) {
		cmd_errorf("%s needs --file", c.command);
		code = EXIT_SOPS_NO_FILE;
		goto done;
	}
	c.file = c.group_file;
	if (!ret)
		ret = sops_session_open(&s, &c, true);
	if (!ret)
		ret = sops_cli_check_foreign_keys(&c, false);
	if (!ret)
		ret = new_groups(&c, &s, add, index_text, &groups, &n, &threshold);
	if (!ret)
		ret = sops_session_seal(&s, s.plain, groups, n, threshold, false, &out);
	if (ret == GS_ERR_UNSUPPORTED_KEY && sops_cli_confirm_drop(&c, c.file)) {
		s.drop_unsupported_keys = true;
		ret = sops_session_seal(&s, s.plain, groups, n, threshold, false, &out);
	}
	if (!ret)
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
