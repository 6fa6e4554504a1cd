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
#include <stddef.h>

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

/*
 * Besides an error, a library function may have a warning to give or a bad
 * record to reject and go on: it hands each to the caller's function (NULL:
 * nothing is said), the message formatted here (cut at 1023 bytes), so that
 * cmd/ says it its way (cli_warn, cli_reject) and a test can collect it.
 */
typedef void (*pd_warn_fn)(void *ud, const char *msg);
typedef void (*pd_reject_fn)(void *ud, const char *file, long line, const char *raw, size_t len,
			     const char *msg);
void pd_warnf(pd_warn_fn fn, void *ud, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void pd_rejectf(pd_reject_fn fn, void *ud, const char *file, long line, const char *raw,
		size_t len, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
