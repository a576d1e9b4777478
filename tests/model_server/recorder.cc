#include "tests/model_server/recorder.h"

#include <cerrno>
#include <cstring>

namespace tandem::model_server {

Result<std::unique_ptr<Recorder>> Recorder::Open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return IoError("cannot open record file " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<Recorder>(new Recorder(file));
}

Recorder::~Recorder() { std::fclose(file_); }

Status Recorder::Write(const nlohmann::json& record) {
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return IoError(std::string("writing the record file: ") + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace tandem::model_server
