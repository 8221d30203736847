/* SPDX-License-Identifier: MIT */
/* The router's epoll registrations (poller.h). */
#include "poller.h"

#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>

int ava_poller_add(int epfd, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void ava_poller_del(int epfd, int fd)
{
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

void ava_poller_set(int epfd, int fd, uint32_t *cur, uint32_t want, void *ptr)
{
	if (*cur == want)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = ptr };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		*cur = want;
}
