/* Private to src/git/: the state behind struct gitfilter. */
#ifndef GITSEAL_GITFILTER_INT_H
#define GITSEAL_GITFILTER_INT_H

#include <git2.h>

#include "gitseal/age.h"
#include "gitseal/config.h"
#include "gitseal/gitfilter.h"

struct gitfilter {
	git_repository *repo;
	git_index *index;
	git_object *head_tree;      /* HEAD^{tree}, read once per process */
	bool head_tried;
	char *workdir;              /* with a trailing '/' */
	bool libgit2_ready;
	bool config_tried;
	struct sops_config *config;
	int config_code;
	char *config_error;
	bool ids_tried;
	struct age_identity_list ids;
	char *ids_error;
	const char *pass_reason;
};

/* Records libgit2's last error as "WHAT: message"; returns GS_ERR_IO. */
int gitrepo_fail(const char *what);
/* Loads libgit2 on first use (libgit2.c); every libgit2 call comes after. */
int gitfilter_libgit2_load(void) __attribute__((warn_unused_result));
int gitrepo_read_blob(struct gitfilter *f, const git_oid *id, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* NULL when no identity is available. */
const struct age_identity_list *gitfilter_identities(struct gitfilter *f);
int gitfilter_encrypt_for_path(struct gitfilter *f, const char *path, const uint8_t *plain, size_t len,
			       const uint8_t *previous, size_t previous_len, struct gs_buf *out)
	__attribute__((warn_unused_result));

#endif
