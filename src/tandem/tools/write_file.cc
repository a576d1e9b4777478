// write_file(path, content): creates a file or replaces its content.
#include <sys/stat.h>

#include <algorithm>

#include "tandem/tools/file_io.h"
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"

namespace tandem::tools {
namespace {

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string path = StringArg(args, "path");
  const std::string content = StringArg(args, "content");
  auto resolved = ctx.guard.Resolve(path, Access::kWrite);
  if (!resolved) return PathOutcome("write_file", resolved.error());
  if (resolved->relative == ".") return Error("write_file: path names the workspace root, not a file");
  struct stat st;
  bool existed = ::stat(resolved->absolute.c_str(), &st) == 0;
  if (existed && S_ISDIR(st.st_mode)) return Error("write_file: '" + path + "' is a directory");
  if (Status s = WriteFileAtomic(resolved->absolute, content); !s.ok()) {
    return Error("write_file: " + s.message());
  }
  size_t lines = static_cast<size_t>(std::count(content.begin(), content.end(), '\n'));
  if (!content.empty() && content.back() != '\n') ++lines;
  ToolOutcome outcome = Ok(std::string(existed ? "overwrote" : "created") + " '" + path + "' (" +
                           std::to_string(lines) + " lines, " + std::to_string(content.size()) + " bytes)");
  outcome.paths_written.push_back(resolved->relative);
  return outcome;
}

ToolEffects Effects(const nlohmann::json& args, const ToolContext& ctx) {
  auto resolved = ctx.guard.Resolve(StringArg(args, "path"), Access::kWrite);
  if (!resolved) return {};
  return {{resolved->relative}, false};
}

const ToolDef kDef{
    {"write_file", "Create a file, or replace a file's whole content.",
     ObjectSchema({{"path", StringParam("Relative to the workspace root.")},
                   {"content", StringParam("Whole file content.")}},
                  {"path", "content"})},
    &Run,
    &Effects};

}  // namespace

const ToolDef& WriteFileTool() { return kDef; }

}  // namespace tandem::tools
