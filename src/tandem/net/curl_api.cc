#include "tandem/net/curl_api.h"

#include <dlfcn.h>

#include <string>

namespace tandem::net {
namespace {

// The soname Debian's libcurl4 (and libcurl3-gnutls' sibling) installs; the
// unversioned .so exists only with the -dev package.
constexpr const char* kLibraries[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};

template <typename Fn>
bool Resolve(void* handle, const char* name, Fn* out, std::string* missing) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    *missing += (missing->empty() ? "" : ", ") + std::string(name);
    return false;
  }
  *out = reinterpret_cast<Fn>(symbol);
  return true;
}

Result<const CurlApi*> Load() {
  static CurlApi api;
  std::string reasons;
  void* handle = nullptr;
  for (const char* library : kLibraries) {
    // RTLD_NOW: a missing symbol fails here, not mid-request.
    handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) break;
    const char* why = dlerror();
    reasons += std::string(reasons.empty() ? "" : "; ") + (why != nullptr ? why : library);
  }
  if (handle == nullptr) {
    return Unavailable("cannot load libcurl (install the libcurl4 package): " + reasons);
  }
  std::string missing;
  bool ok = true;
  ok &= Resolve(handle, "curl_global_init", &api.global_init, &missing);
  ok &= Resolve(handle, "curl_easy_init", &api.easy_init, &missing);
  ok &= Resolve(handle, "curl_easy_setopt", &api.easy_setopt, &missing);
  ok &= Resolve(handle, "curl_easy_getinfo", &api.easy_getinfo, &missing);
  ok &= Resolve(handle, "curl_easy_cleanup", &api.easy_cleanup, &missing);
  ok &= Resolve(handle, "curl_easy_strerror", &api.easy_strerror, &missing);
  ok &= Resolve(handle, "curl_slist_append", &api.slist_append, &missing);
  ok &= Resolve(handle, "curl_slist_free_all", &api.slist_free_all, &missing);
  ok &= Resolve(handle, "curl_multi_init", &api.multi_init, &missing);
  ok &= Resolve(handle, "curl_multi_cleanup", &api.multi_cleanup, &missing);
  ok &= Resolve(handle, "curl_multi_add_handle", &api.multi_add_handle, &missing);
  ok &= Resolve(handle, "curl_multi_remove_handle", &api.multi_remove_handle, &missing);
  ok &= Resolve(handle, "curl_multi_setopt", &api.multi_setopt, &missing);
  ok &= Resolve(handle, "curl_multi_socket_action", &api.multi_socket_action, &missing);
  ok &= Resolve(handle, "curl_multi_info_read", &api.multi_info_read, &missing);
  if (!ok) {
    // Never dlclose: nothing was initialized, and the handle is process-wide.
    return Unavailable("libcurl is too old (needs 7.68 or later): missing " + missing);
  }
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return Unavailable("curl_global_init failed");
  }
  return &api;
}

}  // namespace

Result<const CurlApi*> LoadCurl() {
  // A function-local static: initialized once, thread-safe, and the first
  // caller's outcome (success or error) is every caller's.
  static const Result<const CurlApi*> loaded = Load();
  return loaded;
}

}  // namespace tandem::net
