/*
 * main.c - jirafs: mount a Jira Server / Data Center site as files.
 *
 * Linear: parse the options of each module, build the auth method, check
 * the site and the credentials with /myself (refusing to mount with one
 * clear line when that fails), mount, daemonize, run the multithreaded
 * loop, and unwind in reverse.
 *
 * Exit status: 0 ok, 1 usage or configuration error, 2 credentials refused,
 * 3 Jira unreachable or unusable (network, TLS, unexpected answers),
 * 4 the mount itself failed.
 */
#include <curl/curl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "auth/oauth1.h"
#include "check/check.h"
#include "agent/agent.h"
#include "cli/options.h"
#include "fs/fs.h"
#include "jira/login.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strbuf.h"

enum {
	EXIT_USAGE = 1,
	EXIT_AUTH = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_MOUNT = 4,
};

struct main_opts {
	int help;
	int version;
	char *url;
};

enum { KEY_HELP, KEY_VERSION };

static const struct fuse_opt main_opts[] = {
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static int main_proc(void *data, const char *arg, int key,
		     struct fuse_args *outargs)
{
	(void)outargs;
	struct main_opts *mo = data;
	switch (key) {
	case KEY_HELP:
		mo->help = 1;
		return 0;
	case KEY_VERSION:
		mo->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (!mo->url) {
			mo->url = strdup(arg);
			return mo->url ? 0 : -1;
		}
		return 1; /* the mount point, for fuse_parse_cmdline */
	default:
		return 1;
	}
}

static void usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o opt[,opt...]] URL MOUNTPOINT\n\n"
	       "Mount the Jira Server / Data Center site at URL on "
	       "MOUNTPOINT: one directory\nper project, one JSON file per "
	       "ticket.  See jirafs(1).\n\n"
	       "General options:\n"
	       "    -h, --help             print this help\n"
	       "    -V, --version          print the version\n"
	       "    -f                     stay in the foreground\n"
	       "    -d, -o debug           foreground, with FUSE and HTTP "
	       "traces\n\n",
	       prog);
}

static void to_fuse_log(enum jlog_level level, const char *line)
{
	fuse_log((enum fuse_log_level)level, "%s\n", line);
}

static __attribute__((format(printf, 2, 0))) void
to_syslog(enum fuse_log_level level, const char *fmt, va_list ap)
{
	vsyslog((int)level, fmt, ap);
}

/* Ask Jira who we are; on failure print one line and return the exit
 * status. */
static int check_site(struct jirafs *fs)
{
	struct jira_client *c = NULL;
	struct jira_error err = { 0 };
	const char *url = fs->jira->url;
	deadline_t d = deadline_in((int64_t)fs->jira->timeout_s * 1000);
	int ret = 0;

	if (jira_client_new(fs->jira, fs->auth, &c)) {
		fprintf(stderr, "jirafs: out of memory\n");
		return EXIT_UNREACHABLE;
	}
	enum jira_status st = jira_myself(c, d, &fs->user, &err);
	switch (st) {
	case JIRA_OK:
		break;
	case JIRA_ERR_AUTH:
		fprintf(stderr,
			"jirafs: %s did not accept the credentials (auth=%s): "
			"%s; %s\n",
			url, auth_name(fs->auth), err.msg,
			strcmp(auth_name(fs->auth), "pat") == 0
				? "the token is wrong, revoked or expired"
				: "check the user name and password");
		ret = EXIT_AUTH;
		goto out;
	case JIRA_ERR_CAPTCHA:
		fprintf(stderr,
			"jirafs: %s requires a CAPTCHA after failed logins: log "
			"in once through the web interface, then mount again\n",
			url);
		ret = EXIT_AUTH;
		goto out;
	case JIRA_ERR_AUTH_DISABLED:
		fprintf(stderr,
			"jirafs: %s refuses auth=%s (disabled by the "
			"administrator?): %s\n",
			url, auth_name(fs->auth), err.msg);
		ret = EXIT_AUTH;
		goto out;
	case JIRA_ERR_FORBIDDEN:
		fprintf(stderr, "jirafs: %s refused access: %s\n", url,
			err.msg);
		ret = EXIT_AUTH;
		goto out;
	case JIRA_ERR_TLS:
		fprintf(stderr,
			"jirafs: TLS failure with %s: %s (for a private CA, "
			"give -o cacert=FILE)\n",
			url, err.msg);
		ret = EXIT_UNREACHABLE;
		goto out;
	case JIRA_ERR_TIMEOUT:
		fprintf(stderr, "jirafs: no answer from %s within %u s\n", url,
			fs->jira->timeout_s);
		ret = EXIT_UNREACHABLE;
		goto out;
	case JIRA_ERR_UNREACHABLE:
		fprintf(stderr, "jirafs: cannot reach %s: %s\n", url, err.msg);
		ret = EXIT_UNREACHABLE;
		goto out;
	default:
		fprintf(stderr,
			"jirafs: %s does not answer like Jira (%s): %s\n", url,
			jira_status_name(st), err.msg);
		ret = EXIT_UNREACHABLE;
		goto out;
	}
	st = jira_server_info(c, d, &fs->server_version, &fs->deployment,
			      &err);
	if (st != JIRA_OK)
		jlog_warn("cannot read the server version: %s", err.msg);
out:
	jira_client_free(c);
	return ret;
}

/*
 * jirafs auth oauth1-keygen | oauth1-login | oauth2-login [-o ...] [URL]:
 * the one-time set-up of the OAuth methods (CONTRACT §5).
 */
static int auth_command(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct main_opts mo = { 0 };
	struct mount_options mopt = { 0 };
	struct fuse_cmdline_opts fo = { 0 };
	char errbuf[1024] = "";
	char *state_dir = NULL, *pem = NULL, *key_path = NULL;
	const char *cmd = argc > 1 ? argv[1] : "";
	int ret = EXIT_USAGE;

	args.argc = argc - 1; /* the subcommand is not an option */
	args.argv = argv + 1;
	/* the options a mount takes, the config file's included (client_id=
	 * and cacert= may well be there) */
	if (fuse_opt_parse(&args, &mo, main_opts, main_proc) < 0 ||
	    mount_options_parse(&args, &mopt))
		goto out;
	bool extra = false; /* a word beyond the URL */
	for (int i = 1; i < args.argc; i++) {
		if (strcmp(args.argv[i], "-o") == 0)
			i++;
		else if (args.argv[i][0] != '-')
			extra = true;
	}
	/* what is left is libfuse's (the config file's allow_other or
	 * max_threads=, say): of no use here, but a typo fails as it would
	 * for a mount */
	if (!extra && !mo.help && (fuse_parse_cmdline(&args, &fo) ||
				   mount_options_check_fuse(&args)))
		goto out;
	if (mo.help || !*cmd || extra) {
		printf("usage: jirafs auth oauth1-keygen [-o private_key=PATH,"
		       "state_dir=DIR] [URL]\n"
		       "       jirafs auth oauth1-login -o consumer_key=KEY"
		       "[,private_key=PATH,state_dir=DIR,cacert=FILE] URL\n"
		       "       jirafs auth oauth2-login -o client_id=ID,"
		       "client_secret_file=FILE,redirect_uri=URI"
		       "[,state_dir=DIR,cacert=FILE] URL\n");
		ret = mo.help ? 0 : EXIT_USAGE;
		goto out;
	}
	if (mo.url && jira_url_check(mo.url, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		goto out;
	}
	mopt.jira.url = mo.url;
	mo.url = NULL;
	log_set_debug(mopt.jira.debug);
	if (mopt.jira.url || mopt.fs.state_dir) {
		state_dir = fs_state_dir(&mopt.fs,
					 mopt.jira.url ? mopt.jira.url : "");
		int r = state_dir ? path_mkdirs(state_dir, 0700) : -ENOMEM;
		if (r) {
			fprintf(stderr, "jirafs: cannot create %s: %s\n",
				state_dir ? state_dir : "the state directory",
				strerror(-r));
			goto out;
		}
	}
	if (strcmp(cmd, "oauth1-keygen") == 0) {
		const char *pk = mopt.auth.private_key;
		key_path = pk	       ? path_absolute(pk)
			   : state_dir ? oauth1_default_key_path(state_dir)
				       : NULL;
		if (!key_path) {
			fprintf(stderr, "jirafs: where should the key go? give "
					"-o private_key=PATH, -o state_dir=DIR "
					"or the Jira URL\n");
			goto out;
		}
		if (oauth1_keygen(key_path, &pem, errbuf, sizeof(errbuf))) {
			fprintf(stderr, "jirafs: %s\n", errbuf);
			ret = EXIT_AUTH;
			goto out;
		}
		fputs(pem, stdout);
		fprintf(stderr, "jirafs: the private key is in %s; paste the "
				"public key above into the Jira application "
				"link\n",
			key_path);
		ret = 0;
		goto out;
	}
	if (strcmp(cmd, "oauth1-login") && strcmp(cmd, "oauth2-login")) {
		fprintf(stderr, "jirafs: unknown command 'auth %s' (oauth1-keygen,"
				" oauth1-login, oauth2-login)\n",
			cmd);
		goto out;
	}
	if (!mopt.jira.url) {
		fprintf(stderr, "jirafs: auth %s needs the Jira URL\n", cmd);
		goto out;
	}
	if (mopt.jira.cacert) {
		char *abs = path_absolute(mopt.jira.cacert);
		free(mopt.jira.cacert);
		mopt.jira.cacert = abs;
	}
	struct jira_config *jc = &mopt.jira;
	struct auth_config *ac = &mopt.auth;
	int r = strcmp(cmd, "oauth1-login") == 0
			? jira_oauth1_login(jc, ac, state_dir, stdin, stdout,
					    errbuf, sizeof(errbuf))
			: jira_oauth2_login(jc, ac, state_dir, stdin, stdout,
					    errbuf, sizeof(errbuf));
	if (r) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		ret = r == -EINVAL ? EXIT_USAGE
		      : r == -EACCES ? EXIT_AUTH
				     : EXIT_UNREACHABLE;
		goto out;
	}
	ret = 0;
out:
	free(fo.mountpoint);
	free(pem);
	free(key_path);
	free(state_dir);
	free(mo.url);
	mount_options_release(&mopt);
	if (args.allocated)
		fuse_opt_free_args(&args);
	return ret;
}

int main(int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "auth") == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		int ret = auth_command(argc - 1, argv + 1);
		curl_global_cleanup();
		return ret;
	}
	if (argc > 1 && strcmp(argv[1], "agent") == 0)
		return agent_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		int ret = check_main(argc - 1, argv + 1);
		curl_global_cleanup();
		return ret;
	}

	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct main_opts mo = { 0 };
	struct mount_options mopt = { 0 };
	struct fuse_cmdline_opts fo = { 0 };
	struct jirafs fs = { 0 };
	struct fuse_session *se = NULL;
	struct fuse_loop_config *loop = NULL;
	char errbuf[512] = "";
	int ret = EXIT_USAGE;

	/* Listings are built by several threads; without a cap each keeps its
	 * own malloc arena and the peak of every refresh. */
	mallopt(M_ARENA_MAX, 2);
	/* Search pages are megabytes: mapped apart and unmapped when freed.
	 * (glibc otherwise raises the threshold after the first such free,
	 * and every later page lands in the heap, fragmenting it.) */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "jirafs: cannot initialize libcurl\n");
		return EXIT_USAGE;
	}
	fs.jira = &mopt.jira;
	fs.wcfg = &mopt.write;
	if (fuse_opt_parse(&args, &mo, main_opts, main_proc) < 0)
		goto out;
	if (mo.help) {
		usage(argv[0]);
		fs_opt_help();
		printf("\n");
		jira_opt_help();
		printf("\n");
		jira_write_opt_help();
		printf("\n");
		auth_opt_help();
		printf("\nFUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (mo.version) {
		printf("jirafs %s\nlibfuse %s\n%s\n", JIRAFS_VERSION,
		       fuse_pkgversion(), curl_version());
		ret = 0;
		goto out;
	}
	if (mount_options_parse(&args, &mopt) ||
	    fuse_parse_cmdline(&args, &fo))
		goto out;
	if (!mo.url || !fo.mountpoint) {
		fprintf(stderr,
			"usage: %s [-f] [-d] [-o opt,...] URL MOUNTPOINT "
			"(see --help)\n",
			argv[0]);
		goto out;
	}
	/* a typo in libfuse's options fails here, before anything touches
	 * the network */
	if (mount_options_finish(&args, &mopt, &mo.url))
		goto out;
	fs.cfg = mopt.fs; /* moved: released with the mount */
	memset(&mopt.fs, 0, sizeof(mopt.fs));
	fs.uid = mopt.uid;
	fs.gid = mopt.gid;
	fs.umask = mopt.umask;
	log_set_debug(mopt.jira.debug);

	fs.state_dir = fs_state_dir(&fs.cfg, mopt.jira.url);
	if (!fs.state_dir)
		goto out;
	if (auth_new(&mopt.auth, fs.state_dir, &fs.auth, errbuf,
		     sizeof(errbuf))) {
		fprintf(stderr, "jirafs: %s\n", errbuf);
		goto out;
	}
	if (fs.auth->needs_tls && strncmp(mopt.jira.url, "http://", 7) == 0) {
		if (!mopt.auth.allow_http) {
			fprintf(stderr,
				"jirafs: auth=%s would send the password "
				"unencrypted over http://; use https:// (or "
				"-o allow_http)\n",
				auth_name(fs.auth));
			goto out;
		}
		fprintf(stderr, "jirafs: warning: -o allow_http: the password "
				"travels unencrypted\n");
	}
	if (mopt.jira.insecure)
		fprintf(stderr, "jirafs: warning: -o insecure: the server's "
				"certificate is not verified\n");

	se = jirafs_session_new(&args, &fs);
	if (!se)
		goto out;
	int r = path_mkdirs(fs.state_dir, 0700);
	if (r) {
		fprintf(stderr, "jirafs: cannot create the state directory %s: "
				"%s\n",
			fs.state_dir ? fs.state_dir : "?", strerror(-r));
		goto out;
	}
	if ((ret = check_site(&fs)))
		goto out;
	if (fuse_session_mount(se, fo.mountpoint)) {
		ret = EXIT_MOUNT;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &fs.mounted_at);
	if (fuse_daemonize(fo.foreground)) {
		ret = EXIT_MOUNT;
		goto unmount;
	}
	if (!fo.foreground) {
		openlog("jirafs", LOG_PID, LOG_DAEMON);
		fuse_set_log_func(to_syslog);
	}
	log_set_sink(to_fuse_log);
	if (fuse_set_signal_handlers(se)) {
		ret = EXIT_MOUNT;
		goto unmount;
	}
	if (fo.singlethread) {
		r = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop) {
			r = -1;
		} else {
			fuse_loop_cfg_set_clone_fd(loop, fo.clone_fd);
			if (fo.max_idle_threads != UINT_MAX)
				fuse_loop_cfg_set_idle_threads(
					loop, fo.max_idle_threads);
			fuse_loop_cfg_set_max_threads(loop, fo.max_threads);
			r = fuse_session_loop_mt(se, loop);
		}
	}
	ret = r ? EXIT_MOUNT : 0;
	fuse_remove_signal_handlers(se);
unmount:
	fuse_session_unmount(se);
out:
	jirafs_session_free(&fs);
	fuse_loop_cfg_destroy(loop);
	free(fo.mountpoint);
	free(fs.user);
	free(fs.server_version);
	free(fs.deployment);
	free(fs.state_dir);
	auth_free(fs.auth);
	mount_options_release(&mopt);
	fs_config_release(&fs.cfg);
	free(mo.url);
	fuse_opt_free_args(&args);
	curl_global_cleanup();
	return ret;
}
