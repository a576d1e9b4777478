// search(regex, path?, glob?): matching lines as path:line:text, through
// `git grep` (tracked and untracked, non-ignored files; binary files skipped).
#include "tandem/platform/process.h"
#include "tandem/tools/text.h"
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"
#include "tandem/tools/workspace_files.h"

namespace tandem::tools {
namespace {

constexpr size_t kMaxMatchChars = 300;

Result<platform::ProcessResult> Grep(const ToolContext& ctx, const std::string& flavor,
                                     const std::string& regex, const std::string& pathspec,
                                     bool in_repo) {
  platform::ProcessSpec spec;
  spec.argv = GitArgv(ctx.guard.root());
  spec.argv.insert(spec.argv.end(), {"grep", "-z", "-n", "-I", "--no-color", flavor, "-e", regex});
  if (in_repo) {
    spec.argv.push_back("--untracked");
  } else {
    spec.argv.push_back("--no-index");
  }
  spec.argv.insert(spec.argv.end(), {"--exclude-standard", "--", pathspec, ":(exclude).tandem"});
  spec.output_limit = 4 * 1024 * 1024;
  spec.timeout = std::chrono::milliseconds(60000);
  spec.cancel = ctx.cancel;
  return platform::RunProcess(spec);
}

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string regex = StringArg(args, "regex");
  const std::string path = StringArg(args, "path", ".");
  const std::string glob = StringArg(args, "glob");
  if (regex.empty()) return Error("search: regex must not be empty");
  auto resolved = ctx.guard.Resolve(path.empty() ? "." : path, Access::kRead);
  if (!resolved) return PathOutcome("search", resolved.error());

  std::string pathspec = resolved->relative;
  if (!glob.empty()) {
    std::string base = pathspec == "." ? "" : pathspec + "/";
    std::string g = glob.front() == '/' ? glob.substr(1) : glob;
    pathspec = ":(glob)" + base + (g.find('/') == std::string::npos ? "**/" + g : g);
  }
  bool in_repo = true;
  std::string flavor = "-P";
  auto result = Grep(ctx, flavor, regex, pathspec, in_repo);
  for (int attempt = 0; attempt < 2 && result && result->exit_code == 128; ++attempt) {
    if (result->output.find("not a git repository") != std::string::npos) {
      in_repo = false;
    } else if (result->output.find("Perl-compatible") != std::string::npos) {
      flavor = "-E";  // git without PCRE
    } else {
      break;
    }
    result = Grep(ctx, flavor, regex, pathspec, in_repo);
  }
  if (!result) return Error("search: " + result.error().message());
  if (result->exit_code == 1) return Ok("no matches");
  if (result->exit_code != 0) {
    std::string msg = SanitizeUtf8(Utf8Truncate(result->output, 500));
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Error("search: " + msg);
  }

  // Records are "path\0line\0text\n"; stop at the capping marker.
  const std::string& raw = result->output;
  std::string out;
  size_t shown = 0, more = 0;
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t nl = raw.find('\n', pos);
    if (nl == std::string::npos) nl = raw.size();
    std::string_view rec(raw.data() + pos, nl - pos);
    pos = nl + 1;
    size_t z1 = rec.find('\0');
    size_t z2 = z1 == std::string_view::npos ? z1 : rec.find('\0', z1 + 1);
    if (z2 == std::string_view::npos) continue;  // the marker or a cut record
    if (shown >= ctx.options.search_max_matches) {
      ++more;
      continue;
    }
    std::string_view text = rec.substr(z2 + 1);
    out += SanitizeUtf8(rec.substr(0, z1));
    out += ':';
    out += rec.substr(z1 + 1, z2 - z1 - 1);
    out += ':';
    out += SanitizeUtf8(Utf8Truncate(text, kMaxMatchChars));
    if (text.size() > kMaxMatchChars) out += " [...]";
    out += '\n';
    ++shown;
  }
  if (more > 0 || result->output_bytes != raw.size()) {
    out += "[... more matches not shown; narrow with path, glob or a more specific regex]\n";
  }
  return Ok(std::move(out));
}

const ToolDef kDef{
    {"search", "Search files by regex (PCRE; respects .gitignore). Prints path:line:text.",
     ObjectSchema({{"regex", StringParam("PCRE pattern.")},
                   {"path", StringParam("Directory or file; default: all.")},
                   {"glob", StringParam("File filter, e.g. '*.cc'.")}},
                  {"regex"})},
    &Run,
    nullptr};

}  // namespace

const ToolDef& SearchTool() { return kDef; }

}  // namespace tandem::tools
