// read_file(path, start_line?, end_line?): numbered lines of a text file.
// Streams the file, so a 50 MB file costs only the lines shown; binary and
// non-UTF-8 files are described, not dumped.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "tandem/tools/text.h"
#include "tandem/tools/tool.h"
#include "tandem/tools/tool_args.h"

namespace tandem::tools {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kCountLinesUpTo = 8 * 1024 * 1024;  // beyond this, don't read to the end

ToolOutcome Run(const nlohmann::json& args, const ToolContext& ctx) {
  const std::string path = StringArg(args, "path");
  auto resolved = ctx.guard.Resolve(path, Access::kRead);
  if (!resolved) return PathOutcome("read_file", resolved.error());
  long long start = IntArg(args, "start_line").value_or(1);
  std::optional<long long> end = IntArg(args, "end_line");
  if (start < 1) return Error("read_file: start_line must be 1 or more");
  if (end && *end < start) return Error("read_file: end_line must not be before start_line");

  int fd = ::open(resolved->absolute.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error("read_file: no such file: '" + path + "'");
    return Error("read_file: cannot open '" + path + "': " + std::strerror(errno));
  }
  struct stat st;
  ::fstat(fd, &st);
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error("read_file: '" + path + "' is a directory; use list_files");
  }
  const size_t size = static_cast<size_t>(st.st_size);

  std::string out;
  std::string line;        // the current line (possibly cut at max_line_chars)
  size_t line_bytes = 0;   // its full length
  long long line_no = 1;
  long long shown_first = 0, shown_last = 0;
  bool budget_hit = false;
  bool first_chunk = true;
  bool stopped_early = false;
  std::string buf(kChunk, '\0');
  auto emit = [&]() {
    if (line_no >= start && (!end || line_no <= *end) && !budget_hit) {
      if (out.size() + line.size() > ctx.options.read_max_bytes ||
          (shown_first > 0 && shown_last - shown_first + 1 >= ctx.options.read_max_lines)) {
        budget_hit = true;
        return;
      }
      if (shown_first == 0) shown_first = line_no;
      shown_last = line_no;
      out += std::to_string(line_no);
      out += '\t';
      out += SanitizeUtf8(Utf8Truncate(line, ctx.options.max_line_chars));
      if (line_bytes > ctx.options.max_line_chars) {
        out += " [... line cut, " + std::to_string(line_bytes) + " bytes]";
      }
      out += '\n';
    }
  };
  bool ended_with_newline = true;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    if (first_chunk) {
      first_chunk = false;
      if (LooksBinary(chunk)) {
        ::close(fd);
        bool has_nul = chunk.find('\0') != std::string_view::npos;
        return Ok("binary file (" + std::string(has_nul ? "contains NUL bytes" : "not UTF-8 text") +
                  "), " + std::to_string(size) + " bytes: '" + path + "' is not shown");
      }
    }
    ended_with_newline = chunk.back() == '\n';
    size_t pos = 0;
    while (pos < chunk.size()) {
      size_t nl = chunk.find('\n', pos);
      size_t stop = nl == std::string_view::npos ? chunk.size() : nl;
      if (line.size() < ctx.options.max_line_chars + 4) {
        line.append(chunk.substr(pos, std::min(stop - pos, ctx.options.max_line_chars + 4 - line.size())));
      }
      line_bytes += stop - pos;
      if (nl == std::string_view::npos) break;
      emit();
      line.clear();
      line_bytes = 0;
      ++line_no;
      pos = nl + 1;
    }
    bool window_done = budget_hit || (end && line_no > *end);
    if (window_done && size > kCountLinesUpTo) {
      stopped_early = true;
      break;
    }
  }
  ::close(fd);
  if (!ended_with_newline || !line.empty()) {
    emit();  // a last line without '\n'
  } else {
    --line_no;  // the count of complete lines
  }
  const long long total = line_no;
  if (size == 0) return Ok("(empty file)");
  if (shown_first == 0) {
    if (start > total && !stopped_early) {
      return Error("read_file: start_line " + std::to_string(start) + " is past the end of '" + path +
                   "' (" + std::to_string(total) + " lines)");
    }
    return Error("read_file: nothing to show in that range");
  }
  bool partial = budget_hit || stopped_early || shown_first > 1 || shown_last < total;
  if (partial) {
    out += "[lines " + std::to_string(shown_first) + "-" + std::to_string(shown_last);
    if (stopped_early) {
      out += " of a " + std::to_string(size) + "-byte file";
    } else {
      out += " of " + std::to_string(total);
    }
    out += budget_hit ? "; output limit reached, pass start_line to read on]" : "]";
    out += '\n';
  }
  return Ok(std::move(out));
}

const ToolDef kDef{
    {"read_file",
     "Read a text file. Each line is prefixed with its number and a tab.",
     ObjectSchema({{"path", StringParam("Relative to the workspace root.")},
                   {"start_line", IntegerParam("First line (1-based).")},
                   {"end_line", IntegerParam("Last line (inclusive).")}},
                  {"path"})},
    &Run,
    nullptr};

}  // namespace

const ToolDef& ReadFileTool() { return kDef; }

}  // namespace tandem::tools
