/* The in-cluster decryptor: the Argo CD renderer (k8s_render) and the KRM
 * function with KSOPS-compatible generator configs (k8s_krm_*).
 *
 * Nothing is released on failure: output goes to a secure buffer that the
 * caller writes out only when the call returned 0. Failures are collected
 * one line each (file and document index, never a value). */
#ifndef GITSEAL_K8S_H
#define GITSEAL_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gitseal/age.h"
#include "gitseal/secmem.h"

struct k8s_failures {
	char **lines;
	size_t count;
	size_t cap;
};

void k8s_failures_release(struct k8s_failures *f);

/* --bind-namespace: where a decrypted resource may go. */
enum k8s_namespace_policy {
	K8S_NS_ANY,        /* no check */
	K8S_NS_SOURCE,     /* the namespace its encrypted source names */
	K8S_NS_ALLOW_LIST, /* one of ns_allow (Secrets and decrypted resources) */
};

/* The caller's care for signals while a build runs (gitseal's private
 * directory handler): a signal goes on to kustomize, and the staged
 * plaintext is removed before the process ends of it. */
struct k8s_signal_care {
	/* The staging directory once it exists; NULL once it was removed. */
	void (*staged)(const char *dir);
	/* fork() for the kustomize child, and the word it was reaped. */
	pid_t (*fork)(void);
	void (*reaped)(void);
};

struct k8s_render_opts {
	/* The kustomize command line, words split on blanks; the directory
	 * is appended. NULL: "kustomize build", else "kubectl kustomize". */
	const char *kustomize_cmd;
	/* Every file read lies beneath this directory. NULL: the nearest
	 * ancestor of DIR holding .git, or Argo CD's checkout directory. */
	const char *root;
	bool allow_empty; /* zero documents is a success */
	enum k8s_namespace_policy ns_policy;
	const char *const *ns_allow;
	size_t ns_allow_count;
	/* Where a resource without a namespace lands (ARGOCD_APP_NAMESPACE). */
	const char *default_namespace;
	/* This program: the ksops plugin of builds with KSOPS generators. */
	const char *self_exe;
	/* NULL: a plain fork, and a signal ends the process as it would. */
	const struct k8s_signal_care *care;
};

/* Renders DIR: a kustomization is built (every encrypted resource bound to
 * the verified source it came from, generator sources decrypted first),
 * anything else is read as *.yaml, *.yml, *.json files in sorted order.
 * Every sops document is decrypted and verified; the whole stream is
 * appended to out (secure) only when all succeeded. */
int k8s_render(const char *dir, const struct age_identity_list *ids,
	       const struct k8s_render_opts *opts, struct gs_buf *out, struct k8s_failures *fails)
	__attribute__((warn_unused_result));

/* Argo CD discovery: *found when DIR (a kustomization, followed through
 * its bases, or a plain directory) uses an encrypted file or a KSOPS
 * generator. Reads as render does, beneath the same root. */
int k8s_discover(const char *dir, const char *root, bool *found) __attribute__((warn_unused_result));

/* The KRM function: a ResourceList in, a ResourceList out (always written
 * to out, with the error in results on failure). cwd resolves relative
 * file paths when the functionConfig carries no path annotation. Every
 * file read lies beneath root (NULL: found from cwd as render finds it). */
int k8s_krm_run(const uint8_t *in, size_t len, const char *cwd, const char *root,
		const struct age_identity_list *ids, struct gs_buf *out, struct k8s_failures *fails)
	__attribute__((warn_unused_result));

/* KSOPS's legacy exec-plugin mode: the generator config is read from
 * config_path, the generated YAML stream appended to out. */
int k8s_krm_legacy(const char *config_path, const char *cwd, const char *root,
		   const struct age_identity_list *ids, struct gs_buf *out, struct k8s_failures *fails)
	__attribute__((warn_unused_result));

#endif
