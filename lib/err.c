/*
 * err.c — filling a pd_err.  Messages follow the house style: lower case,
 * no final full stop, the subject quoted.
 */
#include "err.h"
#include <stdarg.h>
#include <stdio.h>

int pd_err_set(pd_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void pd_err_clear(pd_err *err)
{
	if (err) {
		err->code = PD_OK;
		err->msg[0] = '\0';
	}
}

void pd_warnf(pd_warn_fn fn, void *ud, const char *fmt, ...)
{
	if (!fn)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fn(ud, msg);
}

void pd_rejectf(pd_reject_fn fn, void *ud, const char *file, long line, const char *raw,
		size_t len, const char *fmt, ...)
{
	if (!fn)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fn(ud, file, line, raw, len, msg);
}
