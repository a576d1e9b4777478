#include "tandem/verify/excerpt.h"

#include <algorithm>
#include <array>
#include <unordered_set>
#include <vector>

#include "tandem/base/strings.h"

namespace tandem::verify {
namespace {

// Drops ANSI escape sequences (CSI "ESC [ ... final", OSC "ESC ] ... BEL|ST",
// and two-byte escapes) so colourised compiler output reads as plain text.
std::string StripAnsi(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\x1b') {
      out += in[i];
      continue;
    }
    if (i + 1 >= in.size()) break;
    char kind = in[i + 1];
    if (kind == '[') {
      size_t j = i + 2;
      while (j < in.size() && !(in[j] >= 0x40 && in[j] <= 0x7e)) ++j;
      i = j;
    } else if (kind == ']') {
      size_t j = i + 2;
      while (j < in.size() && in[j] != '\a' && !(in[j] == '\x1b' && j + 1 < in.size() &&
                                                   in[j + 1] == '\\')) {
        ++j;
      }
      i = (j < in.size() && in[j] == '\x1b') ? j + 1 : j;
    } else {
      i += 1;
    }
  }
  return out;
}

// Shortens `line` to about `max` bytes without splitting a UTF-8 sequence.
void Shorten(std::string& line, size_t max) {
  if (line.size() <= max) return;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;
  size_t dropped = line.size() - cut;
  line.resize(cut);
  line += " [... " + std::to_string(dropped) + " bytes cut]";
}

// Splits into lines as a terminal would show them: "\r\n" ends a line, a bare
// '\r' redraws it (progress bars), trailing blank lines are dropped.
std::vector<std::string> CleanLines(std::string_view output, size_t max_line_bytes) {
  std::string text = StripAnsi(output);
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (size_t cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
    lines.emplace_back(line);
    Shorten(lines.back(), max_line_bytes);
    pos = end + 1;
  }
  while (!lines.empty() && TrimAsciiSpace(lines.back()).empty()) lines.pop_back();
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace

bool IsErrorLine(std::string_view line) {
  static constexpr std::array<std::string_view, 34> kMarkers = {
      "error:", "error[", "Error", "ERROR", "FAILED", "FAIL:", "FAIL ", "--- FAIL", "Failed", "Failure",
      "failed", "Traceback (most recent call last)", "panicked at", "assert", "Assert",
      "Exception", "undefined reference", "fatal:", "fatal error", "npm ERR!", "make: ***",
      "ninja: build stopped", "Segmentation fault", "core dumped", "Expected", "Received",
      "expected", "not ok ", "\u2717" /* ✗ */, "\u2715" /* ✕ */, "\u2716" /* ✖ */,
      "\u25cf " /* ● (jest) */, "Killed", "Aborted"};
  for (std::string_view marker : kMarkers) {
    if (line.find(marker) != std::string_view::npos) return true;
  }
  // pytest prints the failing assertion's details as "E   ..." lines.
  return line.size() > 2 && line[0] == 'E' && line[1] == ' ' && line[2] == ' ';
}

std::string ExcerptFailure(std::string_view output, const ExcerptOptions& options) {
  const size_t budget = std::max<size_t>(options.budget_bytes, 256);
  std::vector<std::string> lines = CleanLines(output, std::min(options.max_line_bytes, budget / 4));
  const size_t n = lines.size();
  std::string whole = Join(lines);
  if (whole.size() <= budget) return whole;

  // Candidates: windows around error markers, and the tail.
  std::vector<char> candidate(n, 0);
  bool any_marker = false;
  for (size_t i = 0; i < n; ++i) {
    if (!IsErrorLine(lines[i])) continue;
    any_marker = true;
    size_t from = i >= options.context_before ? i - options.context_before : 0;
    size_t to = std::min(n, i + options.context_after + 1);
    std::fill(candidate.begin() + from, candidate.begin() + to, 1);
  }
  const size_t tail_start = n > options.tail_lines ? n - options.tail_lines : 0;
  std::fill(candidate.begin() + tail_start, candidate.end(), 1);

  // Repeated lines (the same include chain or warning per translation unit,
  // the same log line in a retry loop) are dropped after their first copy.
  std::vector<char> duplicate(n, 0);
  std::unordered_set<std::string_view> seen;
  auto is_repeat = [&](size_t i, bool previous_kept) {
    std::string_view key = TrimAsciiSpace(lines[i]);
    if (i > 0 && previous_kept && lines[i] == lines[i - 1]) return true;
    return key.size() >= 8 && seen.count(key) > 0;
  };
  for (size_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    if (is_repeat(i, i > 0 && (candidate[i - 1] || duplicate[i - 1]))) {
      duplicate[i] = 1;
      candidate[i] = 0;
    } else {
      seen.insert(TrimAsciiSpace(lines[i]));
    }
  }

  // Pick lines by priority until the budget (less room for notes) is used:
  // the last lines (up to a third of the budget), then error windows earliest
  // first, then the rest of the tail. Only output without any error marker
  // has its tail extended further back: the budget is a cap, not a target,
  // and lines of passing tests cost the model tokens for nothing.
  constexpr size_t kNoteReserve = 200;
  const size_t room = budget - kNoteReserve;
  std::vector<char> included(n, 0);
  std::vector<size_t> order;  // inclusion order, lowest priority last
  size_t used = 0;
  auto take = [&](size_t i, size_t limit) {
    if (used + lines[i].size() + 1 > limit) return false;
    included[i] = 1;
    order.push_back(i);
    used += lines[i].size() + 1;
    return true;
  };
  size_t i = n;
  while (i > tail_start) {
    --i;
    if (candidate[i] && !take(i, budget / 3)) break;
  }
  size_t tail_low = i;  // the tail lines below this index were not yet taken
  for (size_t j = 0; j < tail_start; ++j) {
    if (candidate[j] && !take(j, room)) break;
  }
  for (size_t j = tail_low + 1; j-- > 0;) {
    if (included[j] || duplicate[j]) continue;
    if (any_marker && !candidate[j]) break;
    if (!candidate[j] && j < tail_start) {
      // Extending into unmarked lines: skip repeats of what is already kept.
      if (TrimAsciiSpace(lines[j]).size() >= 8 && seen.count(TrimAsciiSpace(lines[j])) > 0) continue;
    }
    if (!take(j, room)) break;
  }

  auto render = [&]() {
    std::string out;
    size_t omitted = 0, kept = 0, dropped = 0;
    for (size_t k = 0; k < n; ++k) {
      if (included[k]) {
        if (omitted > 0) out += "[... " + std::to_string(omitted) + " lines omitted ...]\n";
        omitted = 0;
        out += lines[k];
        out += '\n';
        ++kept;
      } else if (duplicate[k]) {
        ++dropped;
      } else {
        ++omitted;
      }
    }
    if (omitted > 0) out += "[... " + std::to_string(omitted) + " lines omitted ...]\n";
    out += "[excerpt: kept " + std::to_string(kept) + " of " + std::to_string(n) + " lines";
    if (dropped > 0) out += ", " + std::to_string(dropped) + " repeated lines dropped";
    out += "; full output " + std::to_string(output.size()) + " bytes]\n";
    return out;
  };
  std::string out = render();
  while (out.size() > budget && !order.empty()) {
    included[order.back()] = 0;
    order.pop_back();
    out = render();
  }
  if (out.size() > budget) out.resize(budget);  // only for pathological budgets
  return out;
}

}  // namespace tandem::verify
