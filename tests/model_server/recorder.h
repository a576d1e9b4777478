// Appends one JSON line per request to the --record file, flushed before the
// response starts so a client that got any response can read its record.
// Thread-safe.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "tandem/base/status.h"

namespace tandem::model_server {

class Recorder {
 public:
  // Creates (truncates) `path`.
  static Result<std::unique_ptr<Recorder>> Open(const std::string& path);
  ~Recorder();

  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Writes `record` as one line and flushes it.
  Status Write(const nlohmann::json& record);

 private:
  explicit Recorder(std::FILE* file) : file_(file) {}

  std::mutex mutex_;
  std::FILE* file_;  // GUARDED_BY(mutex_)
};

}  // namespace tandem::model_server
