// CurlApi: libcurl, loaded on first use instead of at process start.
//
// libcurl pulls in ~30 shared libraries (TLS, Kerberos, LDAP, RTMP, SSH...)
// whose loading and relocation cost ~6 ms of the ~8 ms a `tandem --version`
// took. Most commands (status, stats, steer, undo, init, --help) never touch
// the network, so the library is dlopen()ed the first time an HttpTransport
// is created. Only the entry points tandem uses are resolved; their types
// come from <curl/curl.h>, so a mismatch is a compile error.
#pragma once

#include <curl/curl.h>

#include "tandem/base/status.h"

namespace tandem::net {

struct CurlApi {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
  decltype(&curl_multi_init) multi_init;
  decltype(&curl_multi_cleanup) multi_cleanup;
  decltype(&curl_multi_add_handle) multi_add_handle;
  decltype(&curl_multi_remove_handle) multi_remove_handle;
  decltype(&curl_multi_setopt) multi_setopt;
  decltype(&curl_multi_socket_action) multi_socket_action;
  decltype(&curl_multi_info_read) multi_info_read;
};

// Loads libcurl and runs curl_global_init once per process; later calls
// return the same table (or the same error). Thread-safe. Unavailable, naming
// the library and the loader's reason, when it cannot be loaded.
Result<const CurlApi*> LoadCurl();

}  // namespace tandem::net
