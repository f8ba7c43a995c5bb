/* Which libvirt connection URIs xlab will open. */
#ifndef XLAB_CONNURI_H
#define XLAB_CONNURI_H

#include <stdbool.h>

/* True for a URI whose transport runs no local program chosen by the URI:
 * qemu:///system, qemu:///session, qemu+ssh://HOST/system|session,
 * qemu+libssh://HOST/system|session, qemu+tls://HOST/system|session, test:///default or test:///ABSOLUTE-PATH,
 * with only harmless parameters (no command=, netcat=, socket=, proxy= ...).
 * Otherwise false, with *why saying what is wrong (static text). */
bool libvirt_uri_allowed(const char *uri, const char **why);

#endif
