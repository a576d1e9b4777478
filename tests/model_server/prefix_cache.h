// Simulated provider prompt cache: per model, the prompt of the previous
// request is remembered, and the next request's cached part is its common
// prefix with it. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace tandem::model_server {

class PrefixCache {
 public:
  // Returns the number of leading bytes `prompt` shares with the previous
  // prompt seen for `model`, then remembers `prompt` as the new previous one.
  size_t Lookup(const std::string& model, const std::string& prompt);

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> last_prompt_;  // GUARDED_BY(mutex_)
};

}  // namespace tandem::model_server
