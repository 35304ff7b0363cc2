/* outbox_batch.c - a plan journaled at once, and a look at what waits;
 * see outbox.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/journal.h"
#include "fs/outbox.h"
#include "fs/outbox_priv.h"
#include "util/log.h"

int outbox_enqueue(struct outbox *ob, struct jira_op **ops, size_t n,
		   struct jira_error *err)
{
	memset(err, 0, sizeof(*err));
	struct entry **es = calloc(n ? n : 1, sizeof(*es));
	char **files = calloc(n ? n : 1, sizeof(*files));
	char **texts = calloc(n ? n : 1, sizeof(*texts));
	size_t made = 0;
	int r = es && files && texts ? 0 : -ENOMEM;
	for (; !r && made < n; made++) {
		struct entry *e = calloc(1, sizeof(*e));
		if (!e) {
			r = -ENOMEM;
			break;
		}
		e->op = ops[made];
		ops[made] = NULL;
		es[made] = e;
		if (!(e->subject = outbox_subject_of(e->op)) ||
		    !(texts[made] = jira_op_serialize(e->op)))
			r = -ENOMEM;
	}
	if (!r) {
		/* in line at once and in order, kept from the workers while
		 * the journal is written (without the lock) */
		pthread_mutex_lock(&ob->lock);
		for (size_t i = 0; i < n && !r; i++) {
			char file[64];
			es[i]->seq = ob->next_seq++;
			snprintf(file, sizeof(file), "%016llu-%s.json",
				 (unsigned long long)es[i]->seq,
				 es[i]->op->id);
			if (!(es[i]->file = strdup(file)))
				r = -ENOMEM;
			files[i] = es[i]->file;
		}
		for (size_t i = 0; i < n && !r; i++) {
			es[i]->storing = true;
			*ob->tail = es[i];
			ob->tail = &es[i]->next;
			ob->count++;
		}
		pthread_mutex_unlock(&ob->lock);
		if (!r)
			r = journal_write_batch(ob->dir, files, texts, n);
		pthread_mutex_lock(&ob->lock);
		for (size_t i = 0; i < n; i++) {
			if (!es[i]->storing)
				continue; /* never linked */
			es[i]->storing = false;
			if (r)
				outbox_detach(ob, es[i]);
		}
		pthread_cond_broadcast(&ob->wake);
		pthread_mutex_unlock(&ob->lock);
	}
	for (size_t i = 0; i < n; i++) {
		free(texts ? texts[i] : NULL);
		if (r && es && i < made)
			outbox_entry_free(es[i]);
		else if (r)
			jira_op_free(ops[i]);
	}
	if (r) {
		jira_error_set(err, JIRA_ERR_INTERNAL,
			       "cannot store %zu operations in %s: %s", n,
			       ob->dir, strerror(-r));
		jlog_err("%s", err->msg);
	}
	free(es);
	free(files);
	free(texts);
	return r;
}

void outbox_each(struct outbox *ob,
		 void (*fn)(void *ctx, const struct jira_op *op), void *ctx)
{
	pthread_mutex_lock(&ob->lock);
	for (const struct entry *e = ob->head; e; e = e->next)
		fn(ctx, e->op);
	pthread_mutex_unlock(&ob->lock);
}
