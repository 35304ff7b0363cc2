/*
 * blob.h - long-lived, immutable blocks kept apart from the malloc heap.
 *
 * Ticket files live as long as the listing that holds them, while the
 * search pages they are made from (cJSON trees, response buffers) are
 * freed at once.  Allocated from the same heap, the two interleave, and
 * the freed pages of the transient data cannot be given back to the
 * system: at 50,000 tickets that doubled the resident size.  Blobs are
 * carved in order out of 1 MiB chunks mapped for them alone; a chunk is
 * unmapped when the last blob in it is freed.
 *
 * Thread-safety: blob_alloc and blob_free may be called from any thread.
 */
#ifndef JIRAFS_UTIL_BLOB_H
#define JIRAFS_UTIL_BLOB_H

#include <stddef.h>

struct blob_chunk;

/* n bytes, 16-byte aligned, or NULL; *chunk receives what blob_free
 * needs. */
void *blob_alloc(size_t n, struct blob_chunk **chunk);
/* Free a blob of chunk (NULL is a no-op). */
void blob_free(struct blob_chunk *chunk);


#endif
