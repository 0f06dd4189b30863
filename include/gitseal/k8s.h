/* The in-cluster decryptor: the Argo CD renderer (k8s_render) and the KRM
 * function with KSOPS-compatible generator configs (k8s_krm_*).
 *
 * Nothing is released on failure: output goes to a secure buffer that the
 * caller writes out only when the call returned 0. Failures are collected
 * one line each (file and document index, never a value). */
#ifndef GITSEAL_K8S_H
#define GITSEAL_K8S_H

#include <stddef.h>
#include <stdint.h>

#include "gitseal/age.h"
#include "gitseal/secmem.h"

struct k8s_failures {
	char **lines;
	size_t count;
};

void k8s_failures_release(struct k8s_failures *f);

struct k8s_render_opts {
	/* The kustomize command line, words split on blanks; the wrapper
	 * directory is appended. NULL: $GITSEAL_KUSTOMIZE, else
	 * "kustomize build", else "kubectl kustomize". */
	const char *kustomize_cmd;
};

/* Renders DIR: a kustomization is built (through a private wrapper that
 * adds origin annotations, so every built resource is checked against its
 * verified source), anything else is read as *.yaml, *.yml, *.json files
 * in sorted order. Every sops document is decrypted and verified; the
 * whole stream is appended to out (secure) only when all succeeded. */
int k8s_render(const char *dir, const struct age_identity_list *ids,
	       const struct k8s_render_opts *opts, struct gs_buf *out, struct k8s_failures *fails)
	__attribute__((warn_unused_result));

/* The KRM function: a ResourceList in, a ResourceList out (always written
 * to out, with the error in results on failure). cwd resolves relative
 * file paths when the functionConfig carries no path annotation. */
int k8s_krm_run(const uint8_t *in, size_t len, const char *cwd, const struct age_identity_list *ids,
		struct gs_buf *out, struct k8s_failures *fails) __attribute__((warn_unused_result));

/* KSOPS's legacy exec-plugin mode: the generator config is read from
 * config_path, the generated YAML stream appended to out. */
int k8s_krm_legacy(const char *config_path, const char *cwd, const struct age_identity_list *ids,
		   struct gs_buf *out, struct k8s_failures *fails) __attribute__((warn_unused_result));

#endif
