/* auth: GET /api/auth/whoami, which tells the page who it is signed in as and with which
 * role, so that it shows only what the role may do.
 *
 * The server has already checked the token (src/http/auth.c); this only reports what it
 * found. With auth off there is no name and the role is admin, since everything is open. */
#include <string.h>

#include "api/api.h"

void api_auth_whoami(void *ud, const struct http_request *req, struct http_response *res)
{
    enum http_role role;
    const char *name = http_request_principal(req, &role);
    struct buf *b = res->body;
    buf_puts(b, "{\"name\":");
    if (name)
        http_json_string(b, name, strlen(name));
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"role\":\"%s\",\"auth\":%s}", http_role_name(role), name ? "true" : "false");
}
