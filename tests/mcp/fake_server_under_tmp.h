// A copy of tests/mcp/fake_server.js under /tmp itself (whatever TMPDIR says),
// where the sandbox keeps a private /tmp: the case of a clone of tandem, or of
// a user's MCP server script, under /tmp. Removed when the object goes.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace tandem::test {

class FakeServerUnderTmp {
 public:
  FakeServerUnderTmp() {
    std::string tmpl = "/tmp/tandem_mcp_clone_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    std::filesystem::path script = dir_ / "tests/mcp/fake_server.js";
    std::error_code ec;
    std::filesystem::create_directories(script.parent_path(), ec);
    const std::string source = std::string(TANDEM_SOURCE_DIR) + "/tests/mcp/fake_server.js";
    if (!ec) std::filesystem::copy_file(source, script, ec);
    if (!ec) script_ = script;
  }
  ~FakeServerUnderTmp() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  FakeServerUnderTmp(const FakeServerUnderTmp&) = delete;
  FakeServerUnderTmp& operator=(const FakeServerUnderTmp&) = delete;

  // Empty when the copy could not be made.
  const std::filesystem::path& script() const { return script_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path script_;
};

}  // namespace tandem::test
