/* The renewal store: the guardrails' memory (checks/renew.h's
 * renew_state, one per platform) kept across runs and restarts. */
#pragma once

#include <stdbool.h>

#include "renew.h"

/* The store: the "renewal" key of STATE_DIR/state.json, {"format": 1,
 * "platforms": {NAME: renew_state}}, beside the alert state. Every change
 * is made under the state directory's lock (state.h state_lock()):
 * renew_store_lock() takes it and re-reads every platform from the file,
 * so the change applies to what another certvigil saved last; the caller
 * then decides, changes and renew_store_save()s (which writes the file
 * back atomically, replacing only that key, and unlocks) or
 * renew_store_unlock()s. state_save() carries the key over, so the two
 * never erase each other. */

struct renew_store;

/* A missing file is an empty store; a corrupt one is reported in
 * *ret_warning (caller frees) and replaced by an empty store, since the
 * guardrails must not stop monitoring. read_only: renew_store_save() does
 * nothing (--dry-run). */
int renew_store_open(const char *dir, bool read_only, struct renew_store **ret, char **ret_warning);
struct renew_store *renew_store_free(struct renew_store *s);
/* From now on the store reads and writes state.json through *state, the
 * process's alert state (the daemon's), borrowed: a lock reads the file
 * only when another process replaced it (state_refresh()), a save renders
 * only the guardrails (state_save_renewal()), and the alert state stays
 * the file's version, not read again at the next settle. *state must
 * outlive the store. */
struct state;
void renew_store_share(struct renew_store *s, struct state **state);
/* The platform's state, created empty; owned by the store. */
struct renew_state *renew_store_get(struct renew_store *s, const char *platform);
/* Locks and re-reads (0), or says on stderr why not and returns a negative
 * errno (-ETIMEDOUT when another certvigil held the lock too long): then
 * change nothing. A read-only store neither locks nor re-reads. */
int renew_store_lock(struct renew_store *s);
void renew_store_unlock(struct renew_store *s);
/* Only with the lock renew_store_lock() took (asserted): writes
 * atomically, then unlocks; 0 or a negative errno. Platforms unknown to
 * this run are kept as the last renew_store_lock() read them. */
int renew_store_save(struct renew_store *s);
/* Whether a renew_store_lock() failed in this run (exit status 3). */
bool renew_store_lock_failed(const struct renew_store *s);
const char *renew_store_path(const struct renew_store *s);
