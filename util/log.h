/*
 * log.h - the one logging path of jirafs.
 *
 * Every message goes through log_msg(): it is formatted into a single line
 * (control characters replaced by spaces) and handed to the sink, which main
 * points at fuse_log() so messages survive daemonizing.  Messages at
 * JLOG_NOTICE or more severe are also kept in a ring of the last
 * LOG_RING_LINES lines, which the filesystem shows as .jirafs/log.
 *
 * Debug messages are dropped unless log_set_debug(true) was called.
 *
 * Thread-safety: every function may be called from any thread; the ring and
 * the settings are guarded by one internal mutex.
 */
#ifndef JIRAFS_UTIL_LOG_H
#define JIRAFS_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Severities, numerically equal to syslog's and fuse_log's. */
enum jlog_level {
	JLOG_ERR = 3,
	JLOG_WARNING = 4,
	JLOG_NOTICE = 5,
	JLOG_INFO = 6,
	JLOG_DEBUG = 7,
};

#define LOG_RING_LINES 200

/* A sink receives each line without a trailing newline. */
typedef void (*log_sink_fn)(enum jlog_level level, const char *line);

void log_set_sink(log_sink_fn sink);
void log_set_debug(bool on);
bool log_debug_enabled(void);

void log_msg(enum jlog_level level, const char *file, int line,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define jlog_err(...) log_msg(JLOG_ERR, __FILE__, __LINE__, __VA_ARGS__)
#define jlog_warn(...) log_msg(JLOG_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define jlog_notice(...) log_msg(JLOG_NOTICE, __FILE__, __LINE__, __VA_ARGS__)
#define jlog_info(...) log_msg(JLOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define jlog_debug(...)                                                      \
	do {                                                                 \
		if (log_debug_enabled())                                     \
			log_msg(JLOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/*
 * The ring as text: one line per event, oldest first, each ending in '\n'.
 * Returns a malloc'd NUL-terminated string (caller frees) and its length in
 * *len, or NULL when out of memory.
 */
char *log_ring_text(size_t *len);

/* The most recent error or warning line (without timestamp), copied into
 * buf; empty string when there was none. */
void log_last_error(char *buf, size_t size);

/* Forget the ring and the last error (used by tests). */
void log_ring_clear(void);

#endif
