/* auth.c - option parsing, method selection and secret files; see auth.h */
#include "auth/auth.h"

#include <fcntl.h>
#include <fuse_opt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/methods.h"
#include "util/log.h"
#include "util/path.h"

#define AUTH_OPT(t, p) { t, offsetof(struct auth_config, p), 0 }

static const struct fuse_opt auth_opts[] = {
	AUTH_OPT("auth=%s", method),
	AUTH_OPT("token_file=%s", token_file),
	AUTH_OPT("user=%s", user),
	AUTH_OPT("password_file=%s", password_file),
	{ "allow_http", offsetof(struct auth_config, allow_http), 1 },
	AUTH_OPT("consumer_key=%s", consumer_key),
	AUTH_OPT("private_key=%s", private_key),
	AUTH_OPT("client_id=%s", client_id),
	AUTH_OPT("client_secret_file=%s", client_secret_file),
	AUTH_OPT("redirect_uri=%s", redirect_uri),
	FUSE_OPT_END
};

static int keep_others(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	(void)data;
	(void)arg;
	(void)key;
	(void)outargs;
	return 1;
}

int auth_opt_parse(struct fuse_args *args, struct auth_config *cfg)
{
	return fuse_opt_parse(args, cfg, auth_opts, keep_others);
}

void auth_config_release(struct auth_config *cfg)
{
	free(cfg->method);
	free(cfg->token_file);
	free(cfg->user);
	free(cfg->password_file);
	free(cfg->consumer_key);
	free(cfg->private_key);
	free(cfg->client_id);
	free(cfg->client_secret_file);
	free(cfg->redirect_uri);
	memset(cfg, 0, sizeof(*cfg));
}

void auth_opt_help(void)
{
	printf("Authentication options:\n"
	       "    -o auth=pat|basic|oauth1|oauth2\n"
	       "                           how to authenticate (default: pat)\n"
	       "    -o token_file=FILE     Personal Access Token (else "
	       "$JIRAFS_TOKEN)\n"
	       "    -o user=NAME           user name for basic\n"
	       "    -o password_file=FILE  password for basic (else "
	       "$JIRAFS_PASSWORD)\n"
	       "    -o allow_http          let basic send its password over "
	       "http://\n"
	       "    -o consumer_key=KEY    OAuth 1.0a consumer key of the "
	       "application link\n"
	       "    -o private_key=FILE    its RSA private key (default: "
	       "STATE_DIR/oauth1.pem)\n"
	       "    -o client_id=ID        OAuth 2.0 client id\n"
	       "    -o client_secret_file=FILE\n"
	       "                           its secret (else "
	       "$JIRAFS_CLIENT_SECRET)\n"
	       "    -o redirect_uri=URI    its redirect URI (for "
	       "jirafs auth oauth2-login)\n"
	       "Login: jirafs auth oauth1-keygen | oauth1-login | oauth2-login "
	       "(see jirafs(1))\n");
}

int auth_new(const struct auth_config *cfg, const char *state_dir,
	     struct auth **out, char *errbuf, size_t errsize)
{
	const char *m = cfg->method ? cfg->method : "pat";
	*out = NULL;
	if (strcmp(m, "pat") == 0)
		return auth_pat_new(cfg, out, errbuf, errsize);
	if (strcmp(m, "basic") == 0)
		return auth_basic_new(cfg, out, errbuf, errsize);
	if (strcmp(m, "oauth1") == 0)
		return auth_oauth1_new(cfg, state_dir, out, errbuf, errsize);
	if (strcmp(m, "oauth2") == 0)
		return auth_oauth2_new(cfg, state_dir, out, errbuf, errsize);
	snprintf(errbuf, errsize,
		 "unknown auth method '%s' (use pat, basic, oauth1 or oauth2)",
		 m);
	return -EINVAL;
}

void auth_free(struct auth *a)
{
	if (a)
		a->ops->free(a);
}

int auth_read_secret_file(const char *path, char **out, char *errbuf,
			  size_t errsize)
{
	char *full = path_expand_home(path);
	int ret = 0;
	int fd = -1;
	char *buf = NULL;

	*out = NULL;
	if (!full)
		return -ENOMEM;
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		snprintf(errbuf, errsize, "cannot open %s: %s", full,
			 strerror(errno));
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(errbuf, errsize, "cannot stat %s: %s", full,
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(errbuf, errsize, "%s is not a regular file", full);
		goto out;
	}
	if (st.st_uid != getuid()) {
		ret = -EPERM;
		snprintf(errbuf, errsize,
			 "%s is owned by another user (uid %u); it must be "
			 "yours: chown %u %s",
			 full, (unsigned)st.st_uid, (unsigned)getuid(), full);
		goto out;
	}
	if (st.st_mode & 077) {
		ret = -EPERM;
		snprintf(errbuf, errsize,
			 "%s is accessible by group or others (mode %03o); "
			 "run: chmod 600 %s",
			 full, (unsigned)(st.st_mode & 0777), full);
		goto out;
	}
	if (st.st_size > 64 * 1024) {
		ret = -EFBIG;
		snprintf(errbuf, errsize, "%s is too large for a secret", full);
		goto out;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		ret = -errno;
		snprintf(errbuf, errsize, "cannot read %s: %s", full,
			 strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0) {
		ret = -EINVAL;
		snprintf(errbuf, errsize, "%s is empty", full);
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	auth_secret_free(buf);
	free(full);
	return ret;
}

void auth_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* A secret from a file option, else from an environment variable. */
int auth_secret_from(const char *file, const char *env, const char *what,
		     char **out, char *errbuf, size_t errsize)
{
	if (file)
		return auth_read_secret_file(file, out, errbuf, errsize);
	const char *v = getenv(env);
	if (v && *v) {
		*out = strdup(v);
		return *out ? 0 : -ENOMEM;
	}
	snprintf(errbuf, errsize, "no %s: give -o %s or set %s", what,
		 strcmp(env, "JIRAFS_TOKEN") == 0 ? "token_file=FILE"
						  : "password_file=FILE",
		 env);
	return -EINVAL;
}
