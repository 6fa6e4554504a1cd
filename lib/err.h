/*
 * err.h — how library functions report failure.
 *
 * After hiredis: a function that can fail takes a `pd_err *` (which may be
 * NULL when the caller does not care) and returns a status; on failure it
 * fills the code and a human message.  The library never prints: cmd/ turns
 * the message into `pd-x: FILE:LINE: message` and the code into an exit status.
 */
#ifndef PD_ERR_H
#define PD_ERR_H

/* Codes double as exit statuses where that makes sense (DESIGN.md §5). */
enum pd_code {
	PD_OK = 0,
	PD_EREC = 1,	/* a bad record: reported, counted, rejected */
	PD_EUSAGE = 2,	/* a caller or user mistake: bad option, bad file */
	PD_ESERVICE = 3	/* a service or I/O failure: database, Redis, HTTP, disk */
};

typedef struct pd_err {
	int code;
	char msg[512];
} pd_err;

/* pd_err_set: fill err (if not NULL) and return -1, for `return pd_err_set(...)`. */
int pd_err_set(pd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pd_err_clear(pd_err *err);

#endif
