/*
 * Levelled logging to stderr, one whole line per call, with syslog
 * priorities when stderr is the journal; control characters escaped.
 */
#ifndef FMN_LOG_H
#define FMN_LOG_H

#include "fmn_util.h"

enum fmn_log_level {
	FMN_LOG_ERR,
	FMN_LOG_WARN,
	FMN_LOG_INFO,
	FMN_LOG_DEBUG,
};
void fmn_log_set_level(enum fmn_log_level level);
/*
 * Set the prefix and look whether stderr is the journal (JOURNAL_STREAM):
 * then every line starts with its syslog priority, <3> to <7>.
 */
void fmn_log_init(const char *prefix);
/* A line as it is (no prefix), at a level's priority, whatever the level. */
void fmn_log_line(enum fmn_log_level level, const char *line);
void fmn_log(enum fmn_log_level level, const char *fmt, ...) FMN_PRINTF(2, 3);
#define log_err(...)	fmn_log(FMN_LOG_ERR, __VA_ARGS__)
#define log_warn(...)	fmn_log(FMN_LOG_WARN, __VA_ARGS__)
#define log_info(...)	fmn_log(FMN_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	fmn_log(FMN_LOG_DEBUG, __VA_ARGS__)

#endif
