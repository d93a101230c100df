/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_BACKUP_H
#define IDW_CLI_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * What idw backup, restore and vault repair share (cli_backup.c,
 * cli_repair.c): files in the home, a person's confirmation, agentd.lock.
 */

/* HOME/name. */
int cli_home_file(char *out, size_t len, const char *name);
/* fsync the directory holding path, so a new name survives a crash. */
int cli_fsync_dir_of(const char *path);
/* The UTC time as YYYYMMDDTHHMMSSZ, for names of files kept aside. */
void cli_stamp(char out[32]);
/*
 * 0 when yes, or when a person typed "yes" on the terminal; a stdin that
 * is not a terminal without --yes is refused (IDW_EUSAGE), saying so.
 */
int cli_confirm(bool yes, const char *what);
/*
 * Take the home's agentd.lock, so no agent opens the vault while it is
 * swapped or cut: an agent that holds it is asked to stop, for a bounded
 * time.  *fd holds the lock until closed.
 */
int cli_lock_home(int *fd);

#endif
