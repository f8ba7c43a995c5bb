/* Parking a lab (xlab stop) and bringing it back (xlab start): hosts shut
 * off and started again, disks, guest volumes and store rows kept. */
#ifndef XLAB_PARK_H
#define XLAB_PARK_H

#include "err.h"

/* Guests shut down in each dom0, each dom0 powered off (forced, with a
 * warning, when it does not go); the lab's state becomes "stopped". An
 * unknown or down lab is refused; so are another store's domains. */
int lab_stop(const char *lab, const char *connect, struct xerr *e);
/* Hosts started, each awaited on ssh for boot_timeout_s, every guest the
 * store has (spec's and hand-made) started from its kept volume and
 * config; the lab's state becomes "up". */
int lab_start(const char *lab, const char *connect, int boot_timeout_s, struct xerr *e);

#endif
