/* .sops.yaml: creation rules (spec section 10). */
#ifndef GITSEAL_CONFIG_H
#define GITSEAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "gitseal/sops.h"

struct sops_rule {
	char *path_regex;    /* NULL or empty: matches every path */
	void *path_re;       /* path_regex compiled once (a regex_t), read by every match */
	struct sops_key_group *groups; /* flat keys make one group */
	size_t group_count;
	struct sops_selection selection;
	int shamir_threshold;
};

struct sops_config {
	char *path;          /* the .sops.yaml it came from */
	char *dir;           /* its directory, absolute */
	struct sops_rule *rules;
	size_t rule_count;
	int yaml_indent;     /* stores.yaml.indent and */
	int json_indent;     /* stores.json.indent, as gitseal/sops_format.h counts them */
};

/* Looks for .sops.yaml in start_dir and its parents (100 levels at most).
 * *path_out is NULL (and 0 returned) when there is none; a symbolic link
 * found on the way is refused (GS_ERR_CONFIG), not followed. */
int sops_config_find(const char *start_dir, char **path_out) __attribute__((warn_unused_result));
int sops_config_load(const char *path, struct sops_config **out) __attribute__((warn_unused_result));
int sops_config_parse(const char *text, size_t len, const char *dir, struct sops_config **out)
	__attribute__((warn_unused_result));
void sops_config_free(struct sops_config *c);

/* gitseal's selection for a new Kubernetes Secret when neither flags nor
 * the creation rule give one (the encrypt command and the git filter
 * apply it): only data and stringData are encrypted, so that the manifest
 * stays readable and KSOPS, Flux and render find what they decrypt. */
#define GITSEAL_K8S_SECRET_REGEX "^(data|stringData)$"
/* True when every document of d is a v1 Secret (kind and apiVersion at
 * its top level). */
bool sops_config_is_k8s_secret(const struct doc *d);

/* How a message names a rule: its path_regex, or "(every path)". */
const char *sops_rule_label(const struct sops_rule *r);

/* The first rule whose path_regex matches file_path (made relative to the
 * config's directory when it lies below it). GS_ERR_NO_RULE when none. */
int sops_config_match(const struct sops_config *c, const char *file_path, const struct sops_rule **out)
	__attribute__((warn_unused_result));

#endif
