/* SPDX-License-Identifier: MIT */
/*
 * avarouterd's log (docs/router.md, "Log lines"): one line per event on
 * stderr. A leaf: it knows nothing of the router's state.
 */
#ifndef AVA_ROUTER_LOG_H
#define AVA_ROUTER_LOG_H

/*
 * Formats one line (a newline is added; longer than 1 KiB is cut) and writes
 * it with one write(2), so that lines of the router and of the API servers
 * sharing its stderr do not interleave. Never fails: a line that cannot be
 * written is lost.
 */
void ava_log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* AVA_ROUTER_LOG_H */
