/* .sops.yaml: parsing, rule choice, errors (spec 10). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops_format.h"
#include "shared_data.h"

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

static struct sops_config *parse(const char *text, int want)
{
	struct sops_config *c = NULL;

	assert_int_equal(sops_config_parse(text, strlen(text), "/repo", &c), want);
	if (want == 0)
		assert_non_null(c);
	else
		assert_null(c);
	return c;
}

static const struct sops_rule *match(const struct sops_config *c, const char *path, int want)
{
	const struct sops_rule *r = NULL;

	assert_int_equal(sops_config_match(c, path, &r), want);
	return r;
}

static void test_rules(void **state)
{
	static const char text[] =
		"stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 4\n"
		"creation_rules:\n"
		"  - path_regex: \\.dev\\.yaml$\n"
		"    age: ' age1aaa , age1bbb,,'\n"
		"    encrypted_regex: ^(data|stringData)$\n"
		"    mac_only_encrypted: true\n"
		"  - path_regex: secrets/\\d+/.*\n"
		"    age: [age1ccc, 'age1ddd,age1eee']\n"
		"    hc_vault_transit_uri: https://vault/v1/transit/keys/k\n"
		"  - path_regex: groups\n"
		"    shamir_threshold: 2\n"
		"    key_groups:\n"
		"      - age: [age1x, age1x]\n"
		"        merge:\n"
		"          - age: [age1m]\n"
		"      - age: age1y\n"
		"  - age: age1fallback\n";
	struct sops_config *c = parse(text, 0);
	const struct sops_rule *r;

	(void)state;
	assert_int_equal(c->yaml_indent, 2);
	assert_int_equal(c->json_indent, 4);
	assert_int_equal(c->rule_count, 4);

	r = match(c, "/repo/app.dev.yaml", 0);
	assert_ptr_equal(r, &c->rules[0]);
	assert_int_equal(r->group_count, 1);
	assert_int_equal(r->groups[0].age_count, 2);
	assert_string_equal(r->groups[0].age[0], "age1aaa");
	assert_string_equal(r->groups[0].age[1], "age1bbb");
	assert_int_equal(r->selection.kind, SOPS_SEL_ENCRYPTED_REGEX);
	assert_string_equal(r->selection.value, "^(data|stringData)$");
	assert_true(r->selection.mac_only_encrypted);

	/* \d is translated; the path is relative to the config's directory */
	r = match(c, "/repo/secrets/42/x.yaml", 0);
	assert_ptr_equal(r, &c->rules[1]);
	assert_int_equal(r->groups[0].age_count, 3);
	assert_string_equal(r->groups[0].age[2], "age1eee");
	assert_int_equal(r->groups[0].vault_count, 1);
	assert_int_equal(r->selection.kind, SOPS_SEL_NONE);

	r = match(c, "/repo/groups.yaml", 0);
	assert_ptr_equal(r, &c->rules[2]);
	assert_int_equal(r->shamir_threshold, 2);
	assert_int_equal(r->group_count, 2);
	/* merge first, then the group's own keys, de-duplicated */
	assert_int_equal(r->groups[0].age_count, 2);
	assert_string_equal(r->groups[0].age[0], "age1m");
	assert_string_equal(r->groups[0].age[1], "age1x");
	assert_string_equal(r->groups[1].age[0], "age1y");

	/* first match wins; the catch-all takes the rest */
	r = match(c, "/repo/other.json", 0);
	assert_ptr_equal(r, &c->rules[3]);
	assert_string_equal(r->groups[0].age[0], "age1fallback");
	/* outside the config dir the whole absolute path is searched */
	r = match(c, "/elsewhere/secrets/1/a", 0);
	assert_ptr_equal(r, &c->rules[1]);
	r = match(c, "/repo/../elsewhere/app.dev.yaml", 0);
	assert_ptr_equal(r, &c->rules[0]);
	sops_config_free(c);
}

/* read otherwise by sops's yaml.v3 than by libyaml: a null given another
 * tag, through an alias too; a key given twice, at the top or in a group */
static const char *const read_otherwise[] = {
	"creation_rules:\n  - {path_regex: ! ~, age: age1a}\n",
	"x: &n !!str null\ncreation_rules:\n  - path_regex: *n\n",
	"creation_rules: []\ncreation_rules:\n  - age: age1a\n",
	"creation_rules:\n  - key_groups:\n      - {age: [age1a], age: [age1b]}\n",
};

static void test_no_match_and_errors(void **state)
{
	struct sops_config *c;

	(void)state;
	c = parse("creation_rules:\n  - path_regex: ^only\\.yaml$\n    age: age1a\n", 0);
	match(c, "/repo/only.yaml", 0);
	match(c, "/repo/sub/only.yaml", GS_ERR_NO_RULE);
	assert_non_null(strstr(gs_error_message(), "no matching creation rules"));
	sops_config_free(c);

	parse("creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: _u\n", GS_ERR_CONFIG);
	parse("creation_rules: {a: 1}\n", GS_ERR_CONFIG);
	parse("creation_rules:\n  - path_regex: '('\n", GS_ERR_CONFIG);
	parse("creation_rules:\n  - shamir_threshold: two\n", GS_ERR_CONFIG);
	parse("creation_rules:\n  - age: {a: b}\n", GS_ERR_CONFIG);
	parse("creation_rules: [\n", GS_ERR_CONFIG);
	parse("- a\n", GS_ERR_CONFIG);
	/* RE2 rejects stacked repetitions; glibc would blow up on them */
	parse("creation_rules:\n  - path_regex: 'a++'\n", GS_ERR_CONFIG);
	parse("creation_rules:\n  - path_regex: 'a{1000}'\n", GS_ERR_CONFIG);
	/* a merge key, which sops applies and libyaml does not, anywhere;
	 * a quoted "<<" is a key like any other */
	parse("creation_rules:\n  - <<: {path_regex: ^nothing$}\n    age: age1a\n", GS_ERR_CONFIG);
	assert_non_null(strstr(gs_error_message(), "merge key"));
	parse("base: &b {age: age1a}\ncreation_rules:\n  - <<: *b\n", GS_ERR_CONFIG);
	parse("creation_rules:\n  - !!merge <<: {age: age1a}\n", GS_ERR_CONFIG);
	c = parse("creation_rules:\n  - '<<': x\n    age: age1a\n", 0);
	sops_config_free(c);
	/* a !!binary value: its decoded bytes to sops, its base64 to libyaml */
	parse("creation_rules:\n  - path_regex: !!binary XnNlY3JldHMv\n    age: age1a\n", GS_ERR_CONFIG);
	assert_non_null(strstr(gs_error_message(), "!!binary"));
	/* a null given a string's tag is that string to yaml.v3 (a rule for
	 * paths holding "null"), no value to is_null (a rule for every path) */
	parse("creation_rules:\n  - path_regex: !!str null\n    age: age1a\n", GS_ERR_CONFIG);
	assert_non_null(strstr(gs_error_message(), "a null given another tag"));
	for (size_t i = 0; i < sizeof(read_otherwise) / sizeof(read_otherwise[0]); i++)
		parse(read_otherwise[i], GS_ERR_CONFIG);
	c = parse("creation_rules:\n  - path_regex: &n !!null null\n    age: age1a\n  - path_regex: \"null\"\n", 0);
	match(c, "/repo/any.yaml", 0);
	sops_config_free(c);
	/* a key given twice in one mapping, however quoted: yaml.v3 refuses
	 * the file, libyaml keeps both (the first was read); in two mappings
	 * it is two keys */
	parse("creation_rules:\n  - unencrypted_regex: ^a$\n    \"unencrypted_regex\": ^token$\n", GS_ERR_CONFIG);
	assert_non_null(strstr(gs_error_message(), "the key 'unencrypted_regex' is given twice in one mapping (line 3)"));
	c = parse("creation_rules:\n  - age: age1a\n    path_regex: a\n  - age: age1a\n    path_regex: b\n", 0);
	sops_config_free(c);
	c = parse("creation_rules:\n  - path_regex: '^v\\d{2,3}x{$'\n", 0);
	match(c, "/repo/v123x{", 0);
	match(c, "/repo/v1x{", GS_ERR_NO_RULE);
	sops_config_free(c);
	c = parse("creation_rules:\n  - path_regex: '(?i)^a.*?[\\w.]+\\.YAML$'\n", 0);
	match(c, "/repo/abc_d.yaml", 0);
	match(c, "/repo/b.yaml", GS_ERR_NO_RULE);
	sops_config_free(c);
	/* an empty config and one without rules are valid */
	c = parse("", 0);
	assert_int_equal(c->rule_count, 0);
	assert_int_equal(c->json_indent, SOPS_INDENT_DEFAULT);
	sops_config_free(c);
	/* sops's numbers: JSON 0 is no indentation and -1 a tab, YAML 0 the default */
	c = parse("stores:\n  yaml:\n    indent: 0\n  json:\n    indent: 0\n", 0);
	assert_int_equal(c->yaml_indent, SOPS_INDENT_DEFAULT);
	assert_int_equal(c->json_indent, SOPS_INDENT_NONE);
	sops_config_free(c);
	c = parse("stores:\n  json:\n    indent: -1\n", 0);
	assert_int_equal(c->json_indent, SOPS_INDENT_DEFAULT);
	sops_config_free(c);
}

static void test_functional_tests_sample(void **state)
{
	char path[1024];
	struct sops_config *c = NULL;
	const struct sops_rule *r;

	(void)state;
	shared_data_path(path, sizeof(path),
			 "testdata/sops/getsops-sops/functional-tests/functional-tests.sops-config.yaml");
	assert_int_equal(sops_config_load(path, &c), 0);
	assert_int_equal(c->rule_count, 6);
	assert_int_equal(c->rules[0].group_count, 2);
	assert_int_equal(c->rules[3].group_count, 1); /* key_groups: [] -> flat keys */
	assert_int_equal(c->rules[4].group_count, 1);
	assert_null(c->rules[5].path_regex);
	snprintf(path, sizeof(path), "%s/test_empty_keygroup.yaml", c->dir);
	r = match(c, path, 0);
	assert_ptr_equal(r, &c->rules[4]);
	r = match(c, "/tmp/whatever.yaml", 0);
	assert_ptr_equal(r, &c->rules[5]);
	sops_config_free(c);
}

static void test_find(void **state)
{
	char tmpl[] = "/tmp/gs-config-XXXXXX", sub[PATH_MAX], cfg[PATH_MAX], link[PATH_MAX], *found = NULL;
	char *root = mkdtemp(tmpl);
	struct sops_config *c = NULL;
	const struct sops_rule *r;
	char cwd[PATH_MAX];

	(void)state;
	assert_non_null(root);
	snprintf(sub, sizeof(sub), "%s/a/b", root);
	snprintf(cfg, sizeof(cfg), "%s/a", root);
	assert_int_equal(mkdir(cfg, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(sops_config_find(sub, &found), 0);
	assert_null(found);
	snprintf(cfg, sizeof(cfg), "%s/.sops.yaml", root);
	assert_int_equal(gs_atomic_write(cfg, (const uint8_t *)"creation_rules:\n  - path_regex: ^a/b/x$\n",
					 40, 0600), 0);
	assert_int_equal(sops_config_find(sub, &found), 0);
	assert_non_null(found);
	assert_string_equal(found, cfg);
	assert_int_equal(sops_config_load(found, &c), 0);
	assert_string_equal(c->dir, root);
	/* a path relative to the working directory is made absolute */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(sub), 0);
	r = match(c, "x", 0);
	assert_ptr_equal(r, &c->rules[0]);
	match(c, "y", GS_ERR_NO_RULE);
	assert_int_equal(chdir(cwd), 0);
	sops_config_free(c);
	free(found);
	/* a symbolic link is refused, not followed (repository content) */
	snprintf(link, sizeof(link), "%s/a/.sops.yaml", root);
	assert_int_equal(symlink(cfg, link), 0);
	found = (char *)link;
	assert_int_equal(sops_config_find(sub, &found), GS_ERR_CONFIG);
	assert_null(found);
	assert_non_null(strstr(gs_error_message(), "is not a regular file (a symbolic link)"));
	unlink(link);
	unlink(cfg);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", root);
	rmdir(sub);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_no_match_and_errors),
		cmocka_unit_test(test_functional_tests_sample),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
