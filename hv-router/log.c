/* SPDX-License-Identifier: MIT */
/* avarouterd's log lines (log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void ava_log_line(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	line[len++] = '\n';
	/* One write per line, so lines from the router and its servers do not interleave. */
	ssize_t ignored = write(2, line, len);
	(void)ignored;
}
