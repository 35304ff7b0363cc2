/*
 * outbox_priv.h - the outbox's queue, shared by outbox.c (submitting,
 * the workers, replay) and outbox_batch.c (a plan journaled at once).
 */
#ifndef JIRAFS_FS_OUTBOX_PRIV_H
#define JIRAFS_FS_OUTBOX_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fs/outbox.h"

#define MAX_WORKERS 16

struct entry {
	struct entry *next;
	uint64_t seq;
	struct jira_op *op;
	char *subject;
	char *file;          /* "0000000000000012-<id>.json" */
	int64_t next_try_ms; /* monotonic */
	bool busy;           /* being stored or applied */
	bool storing;        /* its journal file is being rewritten, without
				the lock: not to be applied, changed or
				removed meanwhile */
};

struct outbox {
	char *dir;           /* STATE_DIR/outbox */
	struct jira_writer *w;
	int64_t timeout_ms;
	struct outbox_callbacks cb;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;  /* work may be there (CLOCK_MONOTONIC) */
	struct entry *head, **tail; /* in seq order */
	uint64_t next_seq;
	size_t count;
	bool stopping;
	char auth_problem[JIRA_ERROR_MSG_MAX];

	pthread_t threads[MAX_WORKERS];
	unsigned nthreads;
};

/* The subject of a record: its key, a scan finding's "scan:SEC/FP", or
 * the create's "new:DIR/NAME" (malloc'd). */
char *outbox_subject_of(const struct jira_op *op);
void outbox_entry_free(struct entry *e);
/* Take e out of the list (the caller then owns it); lock held. */
void outbox_detach(struct outbox *ob, struct entry *e);

#endif
