// edit_file(path, old_text, new_text): exact search-and-replace. old_text
// must occur exactly once; otherwise the model is shown where the closest
// lines are (no match) or where the matches are (several).
#include <algorithm>
#include <set>
#include <vector>

#include "tandem/tools/file_io.h"
#include "tandem/tools/text.h"
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"

namespace tandem::tools {
namespace {

constexpr size_t kMaxWindowScans = 4'000'000;  // bounds the closest-lines search

std::vector<std::string_view> SplitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t begin = 0;
  while (begin < s.size()) {
    size_t nl = s.find('\n', begin);
    if (nl == std::string_view::npos) nl = s.size();
    std::string_view line = s.substr(begin, nl - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    begin = nl + 1;
  }
  return lines;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Dice coefficient over character bigrams of the trimmed lines: cheap, and
// tolerant of small edits and indentation changes.
double Similarity(std::string_view a, std::string_view b) {
  a = Trim(a);
  b = Trim(b);
  if (a == b) return 1.0;
  if (a.size() < 2 || b.size() < 2) return 0.0;
  std::multiset<uint16_t> grams;
  for (size_t i = 0; i + 1 < a.size(); ++i) grams.insert(static_cast<uint16_t>(a[i] << 8 | static_cast<unsigned char>(a[i + 1])));
  size_t common = 0;
  for (size_t i = 0; i + 1 < b.size(); ++i) {
    auto it = grams.find(static_cast<uint16_t>(b[i] << 8 | static_cast<unsigned char>(b[i + 1])));
    if (it != grams.end()) {
      ++common;
      grams.erase(it);
    }
  }
  return 2.0 * static_cast<double>(common) / static_cast<double>(a.size() + b.size() - 2);
}

size_t LineOf(std::string_view content, size_t offset) {
  return 1 + static_cast<size_t>(std::count(content.begin(), content.begin() + offset, '\n'));
}

std::string NoMatchMessage(const std::string& path, std::string_view content, std::string_view old_text) {
  std::vector<std::string_view> file = SplitLines(content);
  std::vector<std::string_view> want = SplitLines(old_text);
  while (!want.empty() && Trim(want.back()).empty()) want.pop_back();
  if (want.empty() || file.empty()) return "edit_file: old_text was not found in '" + path + "'";
  size_t n = std::min(want.size(), file.size());
  // Only the first lines of old_text are compared when the file is huge.
  size_t compare = std::max<size_t>(1, std::min(n, kMaxWindowScans / file.size()));
  double best = -1;
  size_t best_at = 0;
  for (size_t i = 0; i + n <= file.size(); ++i) {
    double score = 0;
    for (size_t k = 0; k < compare; ++k) score += Similarity(file[i + k], want[k]);
    if (score > best) {
      best = score;
      best_at = i;
    }
  }
  std::string msg = "edit_file: old_text was not found in '" + path + "'";
  bool only_whitespace = true;
  for (size_t k = 0; k < n; ++k) only_whitespace = only_whitespace && Trim(file[best_at + k]) == Trim(want[k]);
  if (only_whitespace && n == want.size()) {
    msg += "; it matches lines " + std::to_string(best_at + 1) + "-" + std::to_string(best_at + n) +
           " except for indentation or trailing spaces. Copy those lines exactly:\n";
  } else if (best / static_cast<double>(compare) < 0.3) {
    return msg + ", and no lines are similar. Read the file first (read_file) and copy the text exactly.";
  } else {
    msg += ". The closest lines are:\n";
  }
  size_t shown_end = std::min(file.size(), best_at + n + 2);
  for (size_t i = best_at > 0 ? best_at - 1 : 0; i < shown_end && i < best_at + 40; ++i) {
    msg += std::to_string(i + 1) + "\t" + SanitizeUtf8(Utf8Truncate(file[i], 300)) + "\n";
  }
  return msg;
}

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string path = StringArg(args, "path");
  std::string old_text = StringArg(args, "old_text");
  std::string new_text = StringArg(args, "new_text");
  auto resolved = ctx.guard.Resolve(path, Access::kWrite);
  if (!resolved) return PathOutcome("edit_file", resolved.error());
  if (old_text.empty()) return Error("edit_file: old_text must not be empty (use write_file to create a file)");
  if (old_text == new_text) return Error("edit_file: old_text and new_text are the same; nothing to change");

  auto content = ReadSmallFile(resolved->absolute, ctx.options.edit_max_file_bytes);
  if (!content) {
    if (content.error().code() == StatusCode::kNotFound) {
      return Error("edit_file: no such file: '" + path + "' (use write_file to create it)");
    }
    return Error("edit_file: cannot edit '" + path + "': " + content.error().message());
  }
  if (LooksBinary(*content)) return Error("edit_file: '" + path + "' is a binary file");

  // A file with CRLF line ends gets old/new text in CRLF too.
  if (content->find(old_text) == std::string::npos && content->find("\r\n") != std::string::npos &&
      old_text.find('\n') != std::string::npos && old_text.find("\r\n") == std::string::npos) {
    auto to_crlf = [](const std::string& s) {
      std::string out;
      for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
      }
      return out;
    };
    old_text = to_crlf(old_text);
    new_text = to_crlf(new_text);
  }

  std::vector<size_t> at;
  for (size_t p = content->find(old_text); p != std::string::npos; p = content->find(old_text, p + 1)) {
    at.push_back(p);
    if (at.size() > 50) break;
  }
  if (at.empty()) return Error(NoMatchMessage(path, *content, StringArg(args, "old_text")));
  if (at.size() > 1) {
    std::string lines;
    for (size_t i = 0; i < at.size() && i < 10; ++i) {
      lines += (i ? ", " : "") + std::to_string(LineOf(*content, at[i]));
    }
    if (at.size() > 10) lines += ", ...";
    return Error("edit_file: old_text matches " + std::string(at.size() > 50 ? "more than 50" : std::to_string(at.size())) +
                 " times in '" + path + "' (at lines " + lines +
                 "); include more surrounding lines to make it unique");
  }
  const size_t line = LineOf(*content, at[0]);
  std::string updated = content->substr(0, at[0]) + new_text + content->substr(at[0] + old_text.size());
  if (Status s = WriteFileAtomic(resolved->absolute, updated); !s.ok()) {
    return Error("edit_file: " + s.message());
  }
  auto count = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  ToolOutcome outcome = Ok("edited '" + path + "' at line " + std::to_string(line) + " (-" +
                           std::to_string(count(old_text) + 1) + " +" + std::to_string(count(new_text) + 1) +
                           " lines)");
  outcome.paths_written.push_back(resolved->relative);
  return outcome;
}

ToolEffects Effects(const nlohmann::json& args, const ToolContext& ctx) {
  auto resolved = ctx.guard.Resolve(StringArg(args, "path"), Access::kWrite);
  if (!resolved) return {};
  return {{resolved->relative}, false};
}

const ToolDef kDef{
    {"edit_file",
     "Replace old_text with new_text in a file. old_text must match exactly once, whitespace "
     "included.",
     ObjectSchema({{"path", StringParam("Relative to the workspace root.")},
                   {"old_text", StringParam("Exact text to replace.")},
                   {"new_text", StringParam("Replacement text.")}},
                  {"path", "old_text", "new_text"})},
    &Run,
    &Effects};

}  // namespace

const ToolDef& EditFileTool() { return kDef; }

}  // namespace tandem::tools
