/*
 * methods.h - constructors of the individual methods (private to auth/).
 * Each returns 0 and a new struct auth, or -errno with a message in errbuf.
 */
#ifndef JIRAFS_AUTH_METHODS_H
#define JIRAFS_AUTH_METHODS_H

#include "auth/auth.h"

int auth_pat_new(const struct auth_config *cfg, struct auth **out,
		 char *errbuf, size_t errsize);
int auth_basic_new(const struct auth_config *cfg, struct auth **out,
		   char *errbuf, size_t errsize);
int auth_oauth1_new(const struct auth_config *cfg, const char *state_dir,
		    struct auth **out, char *errbuf, size_t errsize);
int auth_oauth2_new(const struct auth_config *cfg, const char *state_dir,
		    struct auth **out, char *errbuf, size_t errsize);

/* A method that adds `header` (taken over, wiped when freed) to every
 * request; name is a string literal. */
int auth_header_method_new(const char *name, char *header, bool needs_tls,
			   struct auth **out);

/* The secret from `file` when given, else from the environment variable
 * `env`; `what` names it in messages. */
int auth_secret_from(const char *file, const char *env, const char *what,
		     char **out, char *errbuf, size_t errsize);

#endif
