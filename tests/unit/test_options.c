/* Unit tests: option parsing of the fs, jira and auth modules. */
#include <stdlib.h>

#include "auth/auth.h"
#include "fs/config.h"
#include "fs/fs.h"
#include "harness.h"
#include "jira/client.h"
#include "jira/tunnel.h"

/* Build fuse_args from a NULL-terminated list. */
static struct fuse_args args_of(const char **argv)
{
	struct fuse_args a = FUSE_ARGS_INIT(0, NULL);
	for (; *argv; argv++)
		fuse_opt_add_arg(&a, *argv);
	return a;
}

/* jira_opt_parse of one -o string alone: its result. */
static int jira_parse_of(const char *opts)
{
	const char *argv[] = { "jirafs", "-o", opts, NULL };
	struct fuse_args a = args_of(argv);
	struct jira_config cfg = { 0 };
	int r = jira_opt_parse(&a, &cfg);
	jira_config_release(&cfg);
	fuse_opt_free_args(&a);
	return r;
}

static int has_arg(const struct fuse_args *a, const char *s)
{
	for (int i = 0; i < a->argc; i++)
		if (strstr(a->argv[i], s))
			return 1;
	return 0;
}

TEST(fs_options_projects_list_survives_comma_split)
{
	const char *argv[] = { "jirafs", "-o",
			       "projects=SEC,OPS,cache_ttl=5,ro,W_1", NULL };
	struct fuse_args a = args_of(argv);
	struct fs_config cfg = { 0 };
	CHECK_INT(fs_opt_parse(&a, &cfg), 0);
	CHECK_INT(cfg.nprojects, 2);
	CHECK_STR(cfg.projects[0], "SEC");
	CHECK_STR(cfg.projects[1], "OPS");
	CHECK_INT(cfg.cache_ttl_s, 5);
	/* "ro" ended the list: W_1 is not a project, it stays for libfuse */
	CHECK(has_arg(&a, "ro"));
	CHECK(has_arg(&a, "W_1"));
	fs_config_release(&cfg);
	fuse_opt_free_args(&a);
}

TEST(fs_options_defaults_and_fstab_noise)
{
	const char *argv[] = { "jirafs", "-o",
			       "_netdev,noauto,x-systemd.automount,nofail",
			       NULL };
	struct fuse_args a = args_of(argv);
	struct fs_config cfg = { 0 };
	CHECK_INT(fs_opt_parse(&a, &cfg), 0);
	CHECK_INT(cfg.cache_ttl_s, JIRAFS_DEFAULT_CACHE_TTL_S);
	CHECK_INT(cfg.nprojects, 0);
	CHECK(!has_arg(&a, "_netdev"));
	CHECK(!has_arg(&a, "systemd"));
	CHECK(!has_arg(&a, "nofail"));
	fs_config_release(&cfg);
	fuse_opt_free_args(&a);
}

TEST(fs_options_reject_bad_project_key)
{
	const char *argv[] = { "jirafs", "-o", "projects=sec", NULL };
	struct fuse_args a = args_of(argv);
	struct fs_config cfg = { 0 };
	CHECK(fs_opt_parse(&a, &cfg) < 0);
	fs_config_release(&cfg);
	fuse_opt_free_args(&a);
}

TEST(state_dir_default_and_option)
{
	struct fs_config cfg = { 0 };
	setenv("XDG_STATE_HOME", "/var/tmp/xdg", 1);
	char *d = fs_state_dir(&cfg, "https://jira.example.com:8443/ctx");
	CHECK_STR(d, "/var/tmp/xdg/jirafs/jira.example.com_8443");
	free(d);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/u", 1);
	d = fs_state_dir(&cfg, "https://jira.example.com");
	CHECK_STR(d, "/home/u/.local/state/jirafs/jira.example.com");
	free(d);
	cfg.state_dir = "~/st";
	d = fs_state_dir(&cfg, "https://jira.example.com");
	CHECK_STR(d, "/home/u/st");
	free(d);
}

TEST(jira_options_and_debug_kept_for_libfuse)
{
	const char *argv[] = { "jirafs", "-o",
			       "timeout=7,insecure,cacert=/ca.pem,debug",
			       "-o", "max_connections=3", NULL };
	struct fuse_args a = args_of(argv);
	struct jira_config cfg = { 0 };
	CHECK_INT(jira_opt_parse(&a, &cfg), 0);
	CHECK_INT(cfg.timeout_s, 7);
	CHECK_INT(cfg.insecure, 1);
	CHECK_STR(cfg.cacert, "/ca.pem");
	CHECK_INT(cfg.max_connections, 3);
	CHECK_INT(cfg.debug, 1);
	CHECK(has_arg(&a, "debug"));
	CHECK(!has_arg(&a, "timeout"));
	jira_config_release(&cfg);
	fuse_opt_free_args(&a);
}

TEST(jira_transport_options)
{
	const char *argv[] = { "jirafs", "-o",
			       "tunnel=ssh://ops@bastion:2222,"
			       "ssh_command=ssh -i /k -J jump,"
			       "connect_to=jira.internal:443:127.0.0.1:9443",
			       NULL };
	struct fuse_args a = args_of(argv);
	struct jira_config cfg = { 0 };
	CHECK_INT(jira_opt_parse(&a, &cfg), 0);
	CHECK_STR(cfg.tunnel, "ssh://ops@bastion:2222");
	CHECK_STR(cfg.ssh_command, "ssh -i /k -J jump");
	CHECK_STR(cfg.connect_to, "jira.internal:443:127.0.0.1:9443");
	CHECK(!has_arg(&a, "tunnel"));
	jira_config_release(&cfg);
	fuse_opt_free_args(&a);

	/* the tunnel is the proxy: not both; a proxy is a URL */
	CHECK(jira_parse_of("tunnel=ssh://h,proxy=http://p:3128") < 0);
	CHECK(jira_parse_of("proxy=p:3128") < 0);
}

TEST(tunnel_spec_parsing)
{
	char why[256];
	const char *good[] = { "ssh://host", "ssh://user@host",
			       "ssh://user@host:2222", "ssh://[::1]:22",
			       "ssh://u@[::1]" };
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK_INT(tunnel_parse(good[i], why, sizeof(why)), 0);
	const char *bad[] = { "host", "http://host", "ssh://", "ssh://host:",
			      "ssh://host:22x", "ssh://host/x", "ssh://-oX=y",
			      "ssh://u@" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why[0] = '\0';
		CHECK_INT(tunnel_parse(bad[i], why, sizeof(why)), -EINVAL);
		CHECK(why[0] != '\0');
	}
}

TEST(jira_options_defaults_and_limits)
{
	const char *argv[] = { "jirafs", NULL };
	struct fuse_args a = args_of(argv);
	struct jira_config cfg = { 0 };
	CHECK_INT(jira_opt_parse(&a, &cfg), 0);
	CHECK_INT(cfg.timeout_s, JIRA_DEFAULT_TIMEOUT_S);
	CHECK_INT(cfg.max_connections, JIRA_DEFAULT_MAX_CONNECTIONS);
	jira_config_release(&cfg);
	fuse_opt_free_args(&a);

	CHECK(jira_parse_of("timeout=0") < 0);
}

TEST(auth_options)
{
	const char *argv[] = { "jirafs", "-o",
			       "auth=basic,user=alice,password_file=/p,ro",
			       NULL };
	struct fuse_args a = args_of(argv);
	struct auth_config cfg = { 0 };
	CHECK_INT(auth_opt_parse(&a, &cfg), 0);
	CHECK_STR(cfg.method, "basic");
	CHECK_STR(cfg.user, "alice");
	CHECK_STR(cfg.password_file, "/p");
	CHECK(has_arg(&a, "ro"));
	auth_config_release(&cfg);
	fuse_opt_free_args(&a);
}

TEST(config_path_is_the_last_config_option_else_the_xdg_default)
{
	const char *a1[] = { "jirafs", "-o", "cache_ttl=5,config=/etc/a\\,b,ro",
			     "-oconfig=/etc/second", "URL", "MNT", NULL };
	struct fuse_args a = args_of(a1);
	int explicit = 0;
	char *p = config_path(&a, &explicit);
	CHECK_STR(p, "/etc/second");
	CHECK_INT(explicit, 1);
	free(p);
	fuse_opt_free_args(&a);

	const char *a2[] = { "jirafs", "-o", "x=1,config=/etc/a\\,b", NULL };
	a = args_of(a2);
	p = config_path(&a, &explicit);
	CHECK_STR(p, "/etc/a,b");
	free(p);
	fuse_opt_free_args(&a);

	const char *a3[] = { "jirafs", "-o", "myconfig=/x", "--", "-o",
			     "config=/y", NULL };
	a = args_of(a3);
	setenv("XDG_CONFIG_HOME", "/home/u/.cfg", 1);
	p = config_path(&a, &explicit);
	CHECK_STR(p, "/home/u/.cfg/jirafs/config");
	CHECK_INT(explicit, 0);
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	fuse_opt_free_args(&a);
}
