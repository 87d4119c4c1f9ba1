/* statesave.h — the ban state file written off the event loop.
 *
 * Saving syncs the file and its directory (file_write_atomic): on a slow or
 * hung disk that takes as long as the disk wants, and the daemon's event
 * loop (NFLOG, datapath events, the control socket) must not wait for it.
 * The loop hands the text over (statesave_put, which never blocks on the
 * disk) and a writer thread writes it; a newer text replaces one not yet
 * started, so the file always ends with the latest state and a stalled disk
 * costs one pending copy, never a queue. Errors are kept for the caller to
 * log (statesave_error). */
#ifndef POLICYD_QUARANTINE_STATESAVE_H
#define POLICYD_QUARANTINE_STATESAVE_H

#include <stddef.h>
#include <stdint.h>

struct statesave;

/* A writer for path (copied). 0 or -errno. */
int statesave_new(const char *path, struct statesave **out);
/* Write text (len bytes; ownership taken, freed with free()) as soon as the
 * writer is free; replaces a text still waiting. */
void statesave_put(struct statesave *s, char *text, size_t len);
/* The result of the latest write (0 or -errno) and how many writes have
 * finished; for the caller to log a failure once. */
int statesave_error(struct statesave *s, uint64_t *done);
/* Write what is pending, waiting at most wait_ms for the disk, and stop.
 * 0, or -ETIMEDOUT if the disk did not finish in time (the writer is left
 * to finish on its own and frees itself; the process may exit). NULL is
 * accepted. */
int statesave_free(struct statesave *s, int wait_ms);

#endif
