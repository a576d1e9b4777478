// list_files(path?, glob?): files below a directory, respecting .gitignore.
#include <sys/stat.h>

#include "tandem/tools/glob.h"
#include "tandem/tools/text.h"
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"
#include "tandem/tools/workspace_files.h"

namespace tandem::tools {
namespace {

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string path = StringArg(args, "path", ".");
  const std::string glob = StringArg(args, "glob");
  auto resolved = ctx.guard.Resolve(path.empty() ? "." : path, Access::kRead);
  if (!resolved) return PathOutcome("list_files", resolved.error());
  struct stat st;
  if (::stat(resolved->absolute.c_str(), &st) != 0) {
    return Error("list_files: no such directory: '" + path + "'");
  }
  auto files = ListWorkspaceFiles(ctx.guard.root(), resolved->relative);
  if (!files) return Error("list_files: " + files.error().message());

  std::string out;
  size_t shown = 0, more = 0;
  for (const std::string& f : *files) {
    if (!glob.empty() && !GlobMatch(glob, f)) continue;
    if (shown >= ctx.options.list_max_entries) {
      ++more;
      continue;
    }
    struct stat fst;
    if (::lstat((ctx.guard.root() / f).c_str(), &fst) != 0) continue;  // deleted, still tracked
    out += SanitizeUtf8(f);
    out += '\n';
    ++shown;
  }
  if (shown == 0) return Ok(glob.empty() ? "no files" : "no files match '" + glob + "'");
  if (more > 0) out += "[... " + std::to_string(more) + " more; narrow with path or glob]\n";
  return Ok(std::move(out));
}

const ToolDef kDef{
    {"list_files", "List files (respects .gitignore).",
     ObjectSchema({{"path", StringParam("Directory; default: the root.")},
                   {"glob", StringParam("e.g. '*.py', 'src/**/*.ts'.")}},
                  {})},
    &Run,
    nullptr};

}  // namespace

const ToolDef& ListFilesTool() { return kDef; }

}  // namespace tandem::tools
