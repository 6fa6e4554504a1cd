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
