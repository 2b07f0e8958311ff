/* json.h - internal: the JSON text the reporters share (strings as valid UTF-8, optionally safe inside an HTML page). */
#ifndef LEAKLAB_REPORT_JSON_H
#define LEAKLAB_REPORT_JSON_H
/*
 * Contract: ll__json_string writes one JSON string literal for a NUL-terminated byte string
 * (NULL is written as ""). Bytes that are not well-formed UTF-8 (file names are bytes) become
 * U+FFFD, so every JSON parser accepts the result; control characters are escaped. html_safe
 * also escapes '<', '>' and '&' (as \u003c ...), so the text can sit inside an HTML <script>
 * element without ever closing it. Errors are left in the stream's error flag.
 */
#include <stdio.h>

void ll__json_string(FILE *out, const char *str, int html_safe);

#endif
