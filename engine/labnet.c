#include "labnet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "names.h"
#include "server_sh.h"
#include "servers.h"
#include "serverspec.h"
#include "util.h"

static int resolve(const char *name, const char *host, struct sockaddr_storage *ss,
		   socklen_t *len, struct xerr *e)
{
	/* IPv4 only: over IPv6 VXLAN takes 70 bytes, which the lab's MTU of
	 * 1450 does not leave room for. */
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &ai);

	if (rc != 0)
		return xerr_set(e, XERR_FAIL,
				"server '%s': no IPv4 address for '%s' (%s): a lab network across "
				"servers runs VXLAN over IPv4 between them",
				name, host, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int numeric(const struct sockaddr_storage *ss, socklen_t len, char out[NI_MAXHOST],
		   struct xerr *e)
{
	int rc = getnameinfo((const struct sockaddr *)ss, len, out, NI_MAXHOST, NULL, 0,
			     NI_NUMERICHOST);

	if (rc != 0)
		return xerr_set(e, XERR_FAIL, "an address as text: %s", gai_strerror(rc));
	return 0;
}

/* The source address the kernel picks towards peer: connect() on a UDP
 * socket sends nothing. */
static int source_towards(const struct sockaddr_storage *peer, socklen_t len,
			  struct sockaddr_storage *src, socklen_t *src_len, struct xerr *e)
{
	struct sockaddr_storage to = *peer;
	int fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return xerr_errno(e, XERR_IO, "socket");
	if (to.ss_family == AF_INET)
		((struct sockaddr_in *)&to)->sin_port = htons(PLAN_VXLAN_PORT);
	else
		((struct sockaddr_in6 *)&to)->sin6_port = htons(PLAN_VXLAN_PORT);
	*src_len = sizeof(*src);
	rc = connect(fd, (struct sockaddr *)&to, len) < 0 ||
			     getsockname(fd, (struct sockaddr *)src, src_len) < 0 ?
		     xerr_errno(e, XERR_IO, "no route from this machine to the servers") :
		     0;
	close(fd);
	return rc;
}

int labnet_addresses(struct labnet_site *s, size_t n, struct xerr *e)
{
	struct sockaddr_storage ss[n ? n : 1];
	socklen_t len[n ? n : 1];
	ssize_t remote = -1, local = -1;

	for (size_t i = 0; i < n; i++) {
		if (!s[i].via) {
			local = (ssize_t)i;
			continue;
		}
		if (resolve(s[i].name, s[i].via->addr, &ss[i], &len[i], e) < 0)
			return -1;
		if (remote < 0)
			remote = (ssize_t)i;
		if (ss[i].ss_family != ss[remote].ss_family)
			return xerr_set(e, XERR_USAGE,
					"servers '%s' and '%s' are reached over different IP "
					"versions; a lab network across them needs one",
					s[remote].name, s[i].name);
	}
	if (remote < 0)
		return xerr_set(e, XERR_USAGE, "a lab network across servers needs another server "
				"than this machine");
	if (local >= 0 &&
	    source_towards(&ss[remote], len[remote], &ss[local], &len[local], e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (numeric(&ss[i], len[i], s[i].addr, e) < 0)
			return -1;
	return 0;
}

void labnet_names_of(const char *store_id, const char *lab, struct labnet_names *n)
{
	names_bridge(store_id, lab, n->bridge);
	names_vxlan(store_id, lab, n->vxlan, &n->vni);
}

int labnet_join(const struct labnet_names *p, const struct labnet_site *s, size_t n,
		size_t self, struct xerr *e)
{
	char vni[16], mtu[16], port[16];
	const char *del[] = { "ip", "link", "del", p->vxlan, NULL };
	const char *add[] = { "ip",   "link",  "add",     p->vxlan, "mtu", mtu,  "type",
			      "vxlan", "id",   vni,       "dstport", port,     NULL };
	const char *attach[] = { "ip", "link", "set", p->vxlan, "master", p->bridge, "up", NULL };
	struct server_sh sh;
	int rc = 0, st;

	snprintf(vni, sizeof(vni), "%u", p->vni);
	snprintf(mtu, sizeof(mtu), "%d", PLAN_VXLAN_MTU);
	snprintf(port, sizeof(port), "%d", PLAN_VXLAN_PORT);
	if (server_sh_open(s[self].name, s[self].via, &sh, e) < 0)
		return -1;
	/* Absent or not, then made: one path whatever an earlier run left. */
	rc = server_sh_run(&sh, del, &st, e);
	if (rc == 0)
		rc = server_sh_run(&sh, add, NULL, e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *fdb[] = { "bridge", "fdb", "append", "00:00:00:00:00:00",
				      "dev",    p->vxlan, "dst", s[i].addr, NULL };

		if (i != self)
			rc = server_sh_run(&sh, fdb, NULL, e);
	}
	if (rc == 0)
		rc = server_sh_run(&sh, attach, NULL, e);
	server_sh_close(&sh);
	return rc;
}

int labnet_rejoin(const struct lab_dirs *d, const struct labnet_names *ln, struct xerr *e)
{
	_cleanup_strv_ char **names = lab_servers(d);
	size_t n = strv_len(names);
	struct labnet_site *s = xcalloc(n + 1, sizeof(*s));
	struct lab_via *vias = xcalloc(n + 1, sizeof(*vias));
	int rc = 0;

	if (n < 2)
		goto out;
	for (size_t i = 0; i < n && rc == 0; i++) {
		s[i].name = names[i];
		if (strcmp(names[i], SERVER_LOCAL) == 0)
			continue;
		rc = server_via_named(names[i], &vias[i], e);
		s[i].via = &vias[i];
	}
	if (rc == 0)
		rc = labnet_addresses(s, n, e);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = labnet_join(ln, s, n, i, e);
out:
	for (size_t i = 0; i < n; i++)
		lab_via_free(&vias[i]);
	free(vias);
	free(s);
	return rc;
}

int labnet_leave(const char *vxlan, const struct labnet_site *site, struct xerr *e)
{
	const char *show[] = { "ip", "link", "show", "dev", vxlan, NULL };
	const char *del[] = { "ip", "link", "del", vxlan, NULL };
	struct server_sh sh;
	int rc, st = 0;

	if (server_sh_open(site->name, site->via, &sh, e) < 0)
		return -1;
	rc = server_sh_run(&sh, show, &st, e);
	if (rc == 0 && st == 0)
		rc = server_sh_run(&sh, del, NULL, e);
	server_sh_close(&sh);
	return rc;
}
