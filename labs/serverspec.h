/* Servers: the libvirt daemons labs may run on (issue 23). The machine xlab
 * runs on is the server "local", always there and never stored; every other
 * one is a name and a URI in the store. Pure rules only: which names and
 * URIs a server may have, and the URI xlab actually opens for one. */
#ifndef XLAB_SERVERSPEC_H
#define XLAB_SERVERSPEC_H

#include <stdbool.h>

#include "err.h"

/* The implicit server: this machine, at what virt_default_uri() gives. */
#define SERVER_LOCAL "local"

/* A DNS label (like lab and host names: it will name libvirt objects and
 * VXLAN devices later) and not "local". XERR_USAGE saying why otherwise. */
int server_name_check(const char *name, struct xerr *e);

/* The URI rules every libvirt URI obeys (labs/connuri.c), and for the SSH
 * transports no known_hosts=, known_hosts_verify= or no_verify=: xlab pins
 * the server's host key itself. XERR_USAGE saying why otherwise. */
int server_uri_check(const char *uri, struct xerr *e);

/* Whether uri reaches its daemon over SSH (qemu+ssh://, qemu+libssh://,
 * qemu+libssh2://). */
bool server_uri_is_ssh(const char *uri);

/* The URI xlab opens for a server added as uri (malloc'd). An SSH one goes
 * through libvirt's libssh2 transport, which checks the host key against
 * known_hosts (the store's file for this server): libvirt's ssh transport
 * runs the system's ssh, which reads only the user's and the system's
 * known_hosts. pin true (`server add`) accepts and writes the key of a
 * server the file does not know yet; false refuses any key but the one the
 * file holds. Other URIs are returned as they are. */
char *server_connect_uri(const char *uri, const char *known_hosts, bool pin);

/* Who, where and with which key an SSH server URI logs in:
 * qemu+ssh://[USER@]HOST[:PORT]/...[?keyfile=KEY]. */
struct server_ssh {
	char *user; /* NULL: libvirt's default (the local user) */
	char *host;
	int port;
	char *keyfile; /* NULL when the URI names none */
};
int server_uri_ssh(const char *uri, struct server_ssh *out, struct xerr *e);
void server_ssh_free(struct server_ssh *s);

#endif
