/*
 * banned.h — functions pd's code must not call (after git's banned.h).
 * Included last by pd.h so that a use anywhere in lib/ or cmd/ fails to
 * compile.  Use snprintf / pd_buf instead of the unbounded string functions.
 */
#ifndef PD_BANNED_H
#define PD_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#endif
