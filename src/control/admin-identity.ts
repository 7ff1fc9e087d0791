// How an answer of dnslinkd's admin API says what it is: a header on every answer of the admin
// listener, 401s and 404s included. The CLI tells the admin API from anything else by it (the HTTP
// port given as --admin by mistake, another service), without loading the server's code.

/** Sent on every answer of the admin listener. */
export const ADMIN_API_HEADER = 'dnslinkd-admin-api';
/** Its value: the version of the admin API's paths (/admin/v1/...). */
export const ADMIN_API_VERSION = 'v1';
