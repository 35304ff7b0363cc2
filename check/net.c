/*
 * net.c - the way to the site, step by step, so that a failure names the
 * step: the name of the first hop resolves, it accepts a TCP connection,
 * and the certificate the site shows.  The first hop is the URL's host, or
 * where connect_to= sends it, or the proxy; with tunnel= names resolve on
 * the far side, so the tunnel itself is the step.  See check_priv.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/check_priv.h"
#include "jira/client.h"
#include "jira/tunnel.h"

#define PROBE_TIMEOUT_MS (10 * 1000)

struct hop {
	char host[256];
	char port[16];
};

/* host and port of a URL (the scheme's port when none is given). */
static bool url_hop(const char *url, struct hop *h)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	/* socks5h:// is no scheme the URL API knows a port of: curl's 1080 */
	bool socks = strncasecmp(url, "socks", 5) == 0;
	bool ok = u &&
		  curl_url_set(u, CURLUPART_URL, url,
			       CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
	if (ok && curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
			  CURLUE_OK) {
		curl_free(port);
		port = NULL;
		ok = socks;
	}
	if (ok) {
		/* [::1] -> ::1 for getaddrinfo */
		size_t n = strlen(host);
		if (n > 2 && host[0] == '[' && host[n - 1] == ']')
			snprintf(h->host, sizeof(h->host), "%.*s", (int)n - 2,
				 host + 1);
		else
			snprintf(h->host, sizeof(h->host), "%s", host);
		snprintf(h->port, sizeof(h->port), "%s", port ? port : "1080");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/* Where connect_to= sends host:port ("HOST:PORT:HOST2:PORT2;..."; an empty
 * part matches any, an empty HOST2 or PORT2 keeps the original): true and
 * *h rewritten when an entry applies. */
static bool apply_connect_to(const char *list, struct hop *h)
{
	char *buf = strdup(list), *save = NULL;
	bool found = false;
	for (char *e = buf ? strtok_r(buf, ";", &save) : NULL; e && !found;
	     e = strtok_r(NULL, ";", &save)) {
		char *part[4] = { 0 };
		char *p = e;
		for (int i = 0; i < 4 && p; i++) {
			part[i] = p;
			/* an [IPv6] part holds colons */
			char *end = *p == '[' ? strchr(p, ']') : p;
			char *colon = end ? strchr(end, ':') : NULL;
			if (colon && i < 3)
				*colon = '\0';
			p = colon && i < 3 ? colon + 1 : NULL;
		}
		if (!part[3])
			continue;
		if ((*part[0] && strcasecmp(part[0], h->host)) ||
		    (*part[1] && strcmp(part[1], h->port)))
			continue;
		if (*part[2]) {
			size_t n = strlen(part[2]);
			if (part[2][0] == '[' && n > 2)
				snprintf(h->host, sizeof(h->host), "%.*s",
					 (int)n - 2, part[2] + 1);
			else
				snprintf(h->host, sizeof(h->host), "%s",
					 part[2]);
		}
		if (*part[3])
			snprintf(h->port, sizeof(h->port), "%s", part[3]);
		found = true;
	}
	free(buf);
	return found;
}

/* Whether no_proxy (as curl reads it: names and domain suffixes separated
 * by commas, "*" for all) exempts host. */
static bool no_proxy_for(const char *host)
{
	const char *v = getenv("no_proxy");
	if (!v || !*v)
		v = getenv("NO_PROXY");
	if (!v || !*v)
		return false;
	char *list = strdup(v), *save = NULL;
	bool hit = false;
	size_t hn = strlen(host);
	for (char *e = list ? strtok_r(list, ", ", &save) : NULL; e && !hit;
	     e = strtok_r(NULL, ", ", &save)) {
		if (strcmp(e, "*") == 0) {
			hit = true;
			break;
		}
		if (*e == '.')
			e++;
		size_t en = strlen(e);
		hit = en && en <= hn && strcasecmp(host + hn - en, e) == 0 &&
		      (en == hn || host[hn - en - 1] == '.');
	}
	free(list);
	return hit;
}

/* The proxy curl will use: proxy=, else the environment as curl reads it
 * for this scheme and host; NULL for none. */
static const char *effective_proxy(const struct jira_config *j,
				   const char *host, const char **from)
{
	*from = "proxy=";
	if (j->proxy)
		return j->proxy;
	if (no_proxy_for(host))
		return NULL;
	bool https = strncmp(j->url, "https://", 8) == 0;
	const char *names[] = { https ? "https_proxy" : "http_proxy",
				https ? "HTTPS_PROXY" : NULL, "all_proxy",
				"ALL_PROXY" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		const char *v = names[i] ? getenv(names[i]) : NULL;
		if (v && *v) {
			*from = names[i];
			return v;
		}
	}
	return NULL;
}

/* Connect to one address within the timeout: 0 or an errno. */
static int tcp_try(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
					       SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0)
		return errno;
	int err = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int n = poll(&p, 1, timeout_ms);
			socklen_t len = sizeof(err);
			if (n == 0)
				err = ETIMEDOUT;
			else if (n < 0 ||
				 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
					    &len) != 0)
				err = errno;
		}
	}
	close(fd);
	return err;
}

static int probe_ms(const struct check *ck)
{
	int64_t t = (int64_t)ck->jcfg->timeout_s * 1000;
	return t < PROBE_TIMEOUT_MS ? (int)t : PROBE_TIMEOUT_MS;
}

/* Name resolution and TCP to one hop; `role` names it in the lines. */
static bool hop_reachable(struct check *ck, const struct hop *h,
			  const char *role, const char *fix_dns)
{
	char buf[700], fix[700];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int gai = getaddrinfo(h->host, h->port, &hints, &res);
	if (gai != 0) {
		snprintf(buf, sizeof(buf), "%s %s does not resolve: %s", role,
			 h->host, gai_strerror(gai));
		check_say(ck, CHECK_FAIL, "name resolution", buf, fix_dns);
		return false;
	}
	char addr[NI_MAXHOST] = "?";
	getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof(addr), NULL,
		    0, NI_NUMERICHOST);
	snprintf(buf, sizeof(buf), "%s %s is %s", role, h->host, addr);
	check_say(ck, CHECK_OK, "name resolution", buf, NULL);

	int err = ETIMEDOUT;
	const struct addrinfo *ai;
	for (ai = res; ai; ai = ai->ai_next) {
		if ((err = tcp_try(ai, probe_ms(ck))) == 0)
			break;
	}
	if (ai)
		getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
			    NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (err) {
		snprintf(buf, sizeof(buf), "%s %s port %s: %s", role, h->host,
			 h->port, strerror(err));
		snprintf(fix, sizeof(fix),
			 err == ECONNREFUSED
				 ? "nothing listens on port %s there: check "
				   "the port (in the URL, connect_to= or "
				   "proxy=) and that the service runs"
				 : "a firewall or the route drops the "
				   "connection to port %s: ask the network "
				   "admin, or reach Jira through tunnel= or "
				   "the agent layout (connect_to=)",
			 h->port);
		check_say(ck, CHECK_FAIL, "TCP", buf, fix);
		return false;
	}
	snprintf(buf, sizeof(buf), "%s %s port %s accepts connections", role,
		 addr, h->port);
	check_say(ck, CHECK_OK, "TCP", buf, NULL);
	return true;
}

bool check_network(struct check *ck)
{
	const struct jira_config *j = ck->jcfg;
	char buf[1400];
	if (j->tunnel)
		return true; /* names resolve on the far side: check_tunnel */
	struct hop h;
	if (!url_hop(j->url, &h))
		return true; /* jira_url_check passed: curl says why later */
	const char *from, *proxy = effective_proxy(j, h.host, &from);
	if (proxy) {
		struct hop ph;
		char *url = NULL;
		/* a proxy without a scheme is http:// to curl */
		if (!strstr(proxy, "://") &&
		    asprintf(&url, "http://%s", proxy) < 0)
			url = NULL;
		if (!url_hop(url ? url : proxy, &ph)) {
			free(url);
			return true;
		}
		free(url);
		snprintf(buf, sizeof(buf), "through %s (%s); the proxy "
					   "resolves %s",
			 proxy, from, h.host);
		check_say(ck, CHECK_OK, "proxy", buf, NULL);
		return hop_reachable(ck, &ph, "the proxy",
				     "check the proxy's host name");
	}
	char orig[300];
	snprintf(orig, sizeof(orig), "%s:%s", h.host, h.port);
	if (j->connect_to && apply_connect_to(j->connect_to, &h)) {
		snprintf(buf, sizeof(buf), "%s is reached at %s:%s (TLS still "
					   "verified against %s)",
			 orig, h.host, h.port, orig);
		check_say(ck, CHECK_OK, "connect_to", buf, NULL);
		return hop_reachable(ck, &h, "connect_to target",
				     "correct the second half of connect_to=");
	}
	return hop_reachable(ck, &h, "the host",
			     "check the host name in the URL; an internal "
			     "name that resolves only inside the network "
			     "needs tunnel= or the agent layout (connect_to=)");
}

/* ---- the certificate ------------------------------------------------- */

struct cert {
	char subject[512], issuer[512], expire[64];
	bool self_signed;
};

static void cert_field(const struct curl_slist *s, const char *name,
		       char *out, size_t size)
{
	size_t n = strlen(name);
	for (; s; s = s->next)
		if (strncmp(s->data, name, n) == 0 && s->data[n] == ':') {
			snprintf(out, size, "%s", s->data + n + 1);
			return;
		}
}

/* The site's leaf certificate, read without verifying it (only to say
 * what it is): a TLS handshake and nothing sent.  False when none. */
static bool peer_cert(const struct check *ck, struct cert *out)
{
	const struct jira_config *j = ck->jcfg;
	CURL *c = curl_easy_init();
	struct curl_slist *ct = NULL;
	if (!c)
		return false;
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)probe_ms(ck));
	if (j->proxy) {
		curl_easy_setopt(c, CURLOPT_PROXY, j->proxy);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	}
	if (j->connect_to) {
		char *buf = strdup(j->connect_to), *save = NULL;
		for (char *e = buf ? strtok_r(buf, ";", &save) : NULL; e;
		     e = strtok_r(NULL, ";", &save))
			ct = curl_slist_append(ct, e);
		free(buf);
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	}
	struct curl_certinfo *ci = NULL;
	bool ok = curl_easy_perform(c) == CURLE_OK &&
		  curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK &&
		  ci && ci->num_of_certs > 0;
	if (ok) {
		memset(out, 0, sizeof(*out));
		cert_field(ci->certinfo[0], "Subject", out->subject,
			   sizeof(out->subject));
		cert_field(ci->certinfo[0], "Issuer", out->issuer,
			   sizeof(out->issuer));
		cert_field(ci->certinfo[0], "Expire date", out->expire,
			   sizeof(out->expire));
		out->self_signed = ci->num_of_certs == 1 &&
				   strcmp(out->subject, out->issuer) == 0;
	}
	curl_slist_free_all(ct);
	curl_easy_cleanup(c);
	return ok;
}

static bool has(const char *s, const char *needle)
{
	return s && strcasestr(s, needle);
}

void check_tls(struct check *ck, const struct jira_error *e)
{
	const char *why = e ? e->msg : NULL;
	const struct jira_config *j = ck->jcfg;
	char buf[1800], fix[900];
	struct cert cert;
	/* through the tunnel the probe could not follow the way */
	bool known = !j->tunnel && peer_cert(ck, &cert);
	if (known)
		snprintf(buf, sizeof(buf), "certificate for %s, issued by "
					   "%s%s, valid until %s",
			 cert.subject, cert.issuer,
			 cert.self_signed ? " (self-signed)" : "", cert.expire);
	else
		snprintf(buf, sizeof(buf), "the certificate could not be "
					   "read");
	if (!why) {
		if (j->insecure) {
			check_say(ck, CHECK_WARN, "TLS", buf,
				  "insecure turns verification off: give "
				  "-o cacert=FILE instead");
			return;
		}
		char ok[1900];
		snprintf(ok, sizeof(ok), "%s; verified", buf);
		check_say(ck, CHECK_OK, "TLS", ok, NULL);
		return;
	}
	char line[3000];
	snprintf(line, sizeof(line), "%s: %s", why, buf);
	if (e->curl_code == CURLE_SSL_CACERT_BADFILE) {
		snprintf(fix, sizeof(fix), "cacert=%s cannot be read as PEM "
					   "certificates: give a readable CA "
					   "file",
			 j->cacert ? j->cacert : "");
	} else if (e->curl_code &&
		   e->curl_code != CURLE_PEER_FAILED_VERIFICATION) {
		snprintf(fix, sizeof(fix), "the TLS handshake itself failed: "
					   "check that this port speaks https "
					   "(not http), and ask the Jira admin "
					   "which TLS versions it accepts "
					   "(cacert= cannot help)");
	} else if (has(why, "expired")) {
		snprintf(fix, sizeof(fix), "the site's certificate has "
					   "expired: the Jira admin must renew "
					   "it (cacert= cannot help)");
	} else if (has(why, "subject name") || has(why, "does not match") ||
		   has(why, "alternative")) {
		snprintf(fix, sizeof(fix), "the certificate is not for this "
					   "host name: use the name it was "
					   "issued for in the URL (cacert= "
					   "cannot help)");
	} else if (j->cacert) {
		snprintf(fix, sizeof(fix), "the CA in %s did not issue the "
					   "server's certificate: give the CA "
					   "file that did%s%s",
			 j->cacert, known ? " (" : "",
			 known ? cert.issuer : "");
		if (known)
			strncat(fix, ")", sizeof(fix) - strlen(fix) - 1);
	} else {
		snprintf(fix, sizeof(fix), "the certificate comes from a CA "
					   "this machine does not trust: give "
					   "-o cacert=FILE with the certificate "
					   "of %s",
			 known ? cert.issuer : "the site's CA");
	}
	check_say(ck, CHECK_FAIL, "TLS", line, fix);
}

void check_tunnel(struct check *ck)
{
	struct tunnel_state ts;
	char buf[600];
	if (!ck->jcfg->tunnel || !jira_client_tunnel(ck->c, &ts))
		return;
	bool up = strcmp(ts.state, "up") == 0;
	if (up)
		snprintf(buf, sizeof(buf), "ssh to %s is up (SOCKS on "
					   "127.0.0.1:%d)",
			 ck->jcfg->tunnel, ts.port);
	else
		snprintf(buf, sizeof(buf), "ssh to %s is %s: %s",
			 ck->jcfg->tunnel, ts.state,
			 ts.last_error[0] ? ts.last_error : "no reason given");
	check_say(ck, up ? CHECK_OK : CHECK_FAIL, "tunnel", buf,
		  up ? NULL
		     : "make `ssh -o BatchMode=yes HOST true` work for this "
		       "user (key, known_hosts; ssh_command= for an "
		       "identity file or ProxyJump)");
}
