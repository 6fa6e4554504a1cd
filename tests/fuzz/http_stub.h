/* http_stub.h — the fuzzers' web services (http_stub.c). */
#ifndef FZ_HTTP_STUB_H
#define FZ_HTTP_STUB_H
#include <stddef.h>
#include <stdint.h>
void fz_http_set(const uint8_t *data, size_t size);
long fz_http_requests(void);
void fz_http_repeat_last(int on);
enum { FZ_HTTP_MAX_REQUESTS = 10000 };
#endif
