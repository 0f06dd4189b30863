/* gitseal rotate / updatekeys / filestatus: the key-management commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "gitseal/io.h"
#include "gitseal/store.h"
#include "session.h"

static bool contains(char **list, size_t count, const char *s)
{
	for (size_t i = 0; i < count; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static int add_unique(char ***list, size_t *count, const char *s)
{
	char **grown;

	if (contains(*list, *count, s))
		return 0;
	grown = realloc(*list, (*count + 1) * sizeof(*grown));
	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*list = grown;
	if (!(grown[*count] = strdup(s)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	(*count)++;
	return 0;
}

int cmd_rotate(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_session s;
	struct gs_buf out;
	char **recipients = NULL;
	size_t count = 0;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "rotate");
	sops_session_init(&s);
	gs_buf_init(&out, false);
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret && !c.file) {
		cmd_errorf("rotate needs a file");
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	if (!ret)
		ret = sops_session_open(&s, &c);
	for (size_t i = 0; !ret && i < s.recipient_count; i++) {
		bool removed = false;

		for (size_t j = 0; j < c.rm_age_count; j++)
			removed |= !strcmp(c.rm_age[j], s.recipients[i]);
		if (!removed)
			ret = add_unique(&recipients, &count, s.recipients[i]);
	}
	for (size_t i = 0; !ret && i < c.add_age_count; i++)
		ret = add_unique(&recipients, &count, c.add_age[i]);
	if (!ret && !count)
		ret = GS_FAIL(GS_ERR_USAGE, "no recipients left after --rm-age");
	if (!ret)
		ret = sops_session_seal(&s, &s.plain, recipients, count, true, &out);
	if (!ret)
		ret = sops_cli_write(&c, out.data, out.len);
	if (ret)
		code = sops_cli_fail(&c, ret);
out:
	for (size_t i = 0; i < count; i++)
		free(recipients[i]);
	free(recipients);
	gs_buf_release(&out);
	sops_session_release(&s);
	sops_cli_release(&c);
	return code;
}

static bool confirm(const char *file)
{
	char answer[16];

	fprintf(stderr, "Is this okay for '%s'? (y/n): ", file);
	if (!isatty(STDIN_FILENO) || !fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Re-wraps one file's data key for the keys of its creation rule. */
static int update_one(struct sops_cli *c, const struct sops_config *config, const char *file)
{
	const struct sops_rule *rule;
	struct sops_session s;
	struct gs_buf out;
	char **wanted = NULL;
	size_t wanted_count = 0;
	bool same;
	int ret;

	c->file = file;
	sops_session_init(&s);
	gs_buf_init(&out, false);
	ret = config ? sops_config_match(config, file, &rule)
		     : GS_FAIL(GS_ERR_CONFIG, "no .sops.yaml found");
	for (size_t g = 0; !ret && g < rule->group_count; g++)
		for (size_t i = 0; !ret && i < rule->groups[g].age_count; i++)
			ret = add_unique(&wanted, &wanted_count, rule->groups[g].age[i]);
	if (!ret)
		ret = sops_session_open(&s, c);
	if (ret)
		goto out;
	same = wanted_count == s.recipient_count;
	for (size_t i = 0; same && i < wanted_count; i++)
		same = contains(s.recipients, s.recipient_count, wanted[i]);
	if (same) {
		fprintf(stderr, "gitseal: '%s': already up to date\n", file);
		goto out;
	}
	for (size_t i = 0; i < wanted_count; i++)
		if (!contains(s.recipients, s.recipient_count, wanted[i]))
			fprintf(stderr, "+++ %s\n", wanted[i]);
	for (size_t i = 0; i < s.recipient_count; i++)
		if (!contains(wanted, wanted_count, s.recipients[i]))
			fprintf(stderr, "--- %s\n", s.recipients[i]);
	if (!c->yes && !confirm(file)) {
		ret = GS_FAIL(GS_ERR_GENERIC, "changes not confirmed (use -y)");
		goto out;
	}
	ret = sops_session_seal(&s, &s.plain, wanted, wanted_count, false, &out);
	if (!ret)
		ret = gs_atomic_write(file, out.data, out.len, 0600);
	if (!ret)
		fprintf(stderr, "gitseal: '%s': keys updated\n", file);
out:
	for (size_t i = 0; i < wanted_count; i++)
		free(wanted[i]);
	free(wanted);
	gs_buf_release(&out);
	sops_session_release(&s);
	return ret;
}

int cmd_updatekeys(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_config *config = NULL;
	const char *first;
	int ret, code = EXIT_OK, failed = 0;

	gs_harden_process();
	sops_cli_init(&c, "updatekeys");
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret && !c.file) {
		cmd_errorf("updatekeys needs at least one file");
		sops_cli_release(&c);
		return EXIT_SOPS_NO_FILE;
	}
	if (!ret)
		ret = sops_cli_load_config(&c, &config);
	if (ret) {
		code = sops_cli_fail(&c, ret);
		goto out;
	}
	first = c.file;
	for (int i = -1; i < c.rest_count; i++) {
		const char *file = i < 0 ? first : c.rest[i];

		ret = update_one(&c, config, file);
		if (ret) {
			code = sops_cli_fail(&c, ret);
			failed++;
		}
	}
	if (failed && c.rest_count > 0)
		code = EXIT_GENERIC;
out:
	sops_config_free(config);
	sops_cli_release(&c);
	return code;
}

int cmd_filestatus(int argc, char **argv)
{
	struct sops_cli c;
	struct gs_buf in;
	struct doc d;
	struct doc_entry *meta, *version, *mac;
	bool encrypted = false;
	int ret, code = EXIT_OK;

	sops_cli_init(&c, "filestatus");
	gs_buf_init(&in, false);
	doc_init(&d, DOC_FORMAT_YAML);
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret && !c.file)
		ret = GS_FAIL(GS_ERR_USAGE, "filestatus needs a file");
	if (!ret)
		ret = sops_cli_read_input(&c, &in);
	if (!ret)
		ret = store_load(sops_cli_input_format(&c), in.data, in.len, &d);
	if (!ret && d.count && (meta = doc_map_find(d.branches[0], "sops")) && meta->value->kind == DOC_MAP) {
		version = doc_map_find(meta->value, "version");
		mac = doc_map_find(meta->value, "mac");
		encrypted = version && mac && version->value->len && mac->value->len;
	}
	if (!ret)
		printf("{\"encrypted\":%s}\n", encrypted ? "true" : "false");
	else
		code = sops_cli_fail(&c, ret);
	doc_release(&d);
	gs_buf_release(&in);
	sops_cli_release(&c);
	return code;
}
