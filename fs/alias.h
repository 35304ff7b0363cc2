/*
 * alias.h - the alias journal of fs/local.h: STATE_DIR/aliases, one JSON
 * line per change ({"op": "+", "dir", "name", "key"}: an alias; "-": gone;
 * "~": removed, its key remembered), durable before a call returns,
 * replayed at mount and rewritten with only what is live.  A line that
 * does not parse (torn by a crash, or foreign) is skipped.  Knows nothing
 * of what it records: fs/local.c replays and compacts through it.  Its own
 * lock serialises appends.
 */
#ifndef JIRAFS_FS_ALIAS_H
#define JIRAFS_FS_ALIAS_H

#include <stddef.h>

#include "util/strbuf.h"

struct alias_journal;

/* The journal of state_dir.  NULL when out of memory. */
struct alias_journal *alias_journal_open(const char *state_dir);
void alias_journal_close(struct alias_journal *j);
const char *alias_journal_path(const struct alias_journal *j);

/* Append one change (key NULL for "-").  Logged on failure. */
void alias_journal_add(struct alias_journal *j, const char *op,
		       const char *dir, const char *name, const char *key);

/* Replay: fn for each well-formed line, in order.  Returns the number of
 * lines read. */
size_t alias_journal_load(struct alias_journal *j,
			  void (*fn)(void *ctx, const char *op,
				     const char *dir, const char *name,
				     const char *key),
			  void *ctx);

/* Add the line of one change to sb (for a rewrite). */
void alias_journal_line(struct strbuf *sb, const char *op, const char *dir,
			const char *name, const char *key);
/* Replace the journal with sb's lines, atomically.  Logged on failure. */
void alias_journal_rewrite(struct alias_journal *j, const struct strbuf *sb);

#endif
