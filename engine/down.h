/* Taking a lab down, as a library call: `xlab down`, class and matrix all
 * come here (none runs the xlab binary again to do it). */
#ifndef XLAB_DOWN_H
#define XLAB_DOWN_H

#include "err.h"

/* Removes every libvirt domain and network, disk and file of this store's
 * lab, under the lab's lock, recording a "down" run; a lab neither the store
 * nor libvirt knows is XERR_NOTFOUND (with the labs there are). Safe from
 * any thread (each call opens its own store and libvirt connections). It
 * leaves signals alone: a command that must not be cut halfway through a
 * down ignores SIGINT itself, at its entry point. connect may be NULL. */
int lab_down(const char *lab, const char *connect, struct xerr *e);

#endif
