#include "tandem/memory/progress_md.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "tandem/base/redact.h"
#include "tandem/base/strings.h"
#include "tandem/memory/memory_file.h"
#include "tandem/platform/atomic_file.h"

namespace tandem::memory {
namespace {

bool IsBlank(std::string_view line) { return TrimAsciiSpace(line).empty(); }

// Lines of `text`, each with its '\n' (the last may lack one).
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return lines;
}

enum class SectionKind { kPreamble, kOther, kNext, kNotes, kTask };

struct Section {
  SectionKind kind = SectionKind::kPreamble;
  std::string id;       // kTask only
  std::string heading;  // the heading line with its '\n'; empty for the preamble
  std::string body;     // every line up to the next section
};

Section FromHeading(std::string_view line) {
  Section s{SectionKind::kOther, "", std::string(line), ""};
  std::string_view title = TrimAsciiSpace(line.substr(2));
  if (title == "Next") {
    s.kind = SectionKind::kNext;
  } else if (title == "Notes") {
    s.kind = SectionKind::kNotes;
  } else if (size_t colon = title.find(':'); colon != std::string_view::npos) {
    std::string_view id = TrimAsciiSpace(title.substr(0, colon));
    if (!id.empty() && id.find_first_of(" \t") == std::string_view::npos) {
      s.kind = SectionKind::kTask;
      s.id = std::string(id);
    }
  }
  return s;
}

// Splits at `## ` headings outside code blocks. Join(Split(t)) == t.
// A fence that is never closed opens no block: otherwise every section
// tandem appends after it would be hidden from the next read.
std::vector<Section> Split(std::string_view text) {
  std::vector<Section> sections(1);
  std::vector<std::string_view> lines = Lines(text);
  size_t fences_left = static_cast<size_t>(std::count_if(
      lines.begin(), lines.end(), [](std::string_view l) { return l.starts_with("```"); }));
  bool in_fence = false;
  for (std::string_view line : lines) {
    if (line.starts_with("```")) {
      if (in_fence || fences_left >= 2) in_fence = !in_fence;
      --fences_left;
    }
    if (!in_fence && line.starts_with("## ")) {
      sections.push_back(FromHeading(line));
    } else {
      sections.back().body += line;
    }
  }
  return sections;
}

std::string Join(const std::vector<Section>& sections) {
  std::string out;
  for (const Section& s : sections) {
    out += s.heading;
    // A heading on the file's last line has no '\n'; an entry added under
    // it must not end up on the heading's line.
    if (!s.heading.empty() && !s.heading.ends_with('\n') && !s.body.empty()) out += '\n';
    out += s.body;
  }
  return out;
}

// An entry: a line at the left margin and the indented lines under it.
struct Unit {
  size_t begin = 0, end = 0;  // offsets in the body, end past the last '\n'
  std::string label;          // "outcome" for "- outcome: ...", else ""
};

std::vector<Unit> Units(std::string_view body) {
  std::vector<Unit> units;
  bool open = false;
  size_t pos = 0;
  for (std::string_view line : Lines(body)) {
    if (IsBlank(line)) {
      open = false;
    } else if (open && (line[0] == ' ' || line[0] == '\t')) {
      units.back().end = pos + line.size();
    } else {
      Unit u{pos, pos + line.size(), ""};
      std::string_view t = TrimAsciiSpace(line);
      if (t.starts_with("- ") && t.find(':') != std::string_view::npos) {
        u.label = std::string(TrimAsciiSpace(t.substr(2, t.find(':') - 2)));
      }
      units.push_back(u);
      open = true;
    }
    pos += line.size();
  }
  return units;
}

// The text of an entry without its "- label:" and indentation, lines joined.
std::string UnitText(std::string_view unit) {
  std::string out;
  for (std::string_view line : Lines(unit)) {
    std::string_view t = TrimAsciiSpace(line);
    if (out.empty() && t.starts_with("- ")) t = TrimAsciiSpace(t.substr(t.find(':') + 1));
    if (!out.empty()) out += '\n';
    out += t;
  }
  return out;
}

// "- <label>: <text>" (or "- <text>" without a label); further lines of
// `text` are indented under it, blank ones dropped (they would end the entry).
std::string FormatEntry(std::string_view label, std::string_view text) {
  std::string out = label.empty() ? "-" : "- " + std::string(label) + ":";
  bool first = true;
  for (std::string_view line : Lines(text)) {
    line = TrimAsciiSpace(line);
    if (line.empty()) continue;
    out += first ? " " : "\n  ";
    out += line;
    first = false;
  }
  return out + "\n";
}

void EnsureNewline(std::string& body) {
  if (!body.empty() && body.back() != '\n') body += '\n';
}

// Replaces the entry labelled `label`, or inserts it after the entry labelled
// `after_label` (or before the first entry of the body).
void PutEntry(std::string& body, std::string_view label, std::string_view entry,
              std::string_view after_label) {
  EnsureNewline(body);
  std::vector<Unit> units = Units(body);
  for (const Unit& u : units) {
    if (u.label == label) {
      body.replace(u.begin, u.end - u.begin, entry);
      return;
    }
  }
  size_t at = units.empty() ? 0 : units.front().begin;
  for (const Unit& u : units) {
    if (!after_label.empty() && u.label == after_label) at = u.end;
  }
  // An indented line right below would continue the new entry: keep a blank
  // line between them.
  bool indented_next = at < body.size() && (body[at] == ' ' || body[at] == '\t');
  body.insert(at, indented_next ? std::string(entry) + "\n" : std::string(entry));
}

// `entry` without the " (×N)" a repeat count left at its end, and N (1 when
// there is none).
std::pair<std::string_view, int> WithoutRepeatCount(std::string_view entry) {
  constexpr std::string_view kMark = " (×";
  size_t mark = entry.rfind(kMark);
  if (mark == std::string_view::npos || !entry.ends_with(')')) return {entry, 1};
  std::string_view digits = entry.substr(mark + kMark.size());
  digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 8 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return {entry, 1};
  }
  return {entry.substr(0, mark), std::atoi(std::string(digits).c_str())};
}

// Appends `entry` after the body's last entry. When that last entry already
// says the same (a task failing the same way run after run), it counts the
// repeat instead: "- failure: gate test failed (×3)". Only the last: folding
// into an earlier entry would move the repeat above what happened between.
void AppendEntry(std::string& body, std::string_view entry) {
  EnsureNewline(body);
  std::vector<Unit> units = Units(body);
  if (entry.ends_with('\n') && !units.empty()) {
    const Unit& last = units.back();
    std::string_view prev = std::string_view(body).substr(last.begin, last.end - last.begin);
    prev.remove_suffix(prev.ends_with('\n') ? 1 : 0);
    auto [text, count] = WithoutRepeatCount(prev);
    if (text == entry.substr(0, entry.size() - 1)) {
      std::string counted = std::string(text) + " (×" + std::to_string(count + 1) + ")\n";
      body.replace(last.begin, last.end - last.begin, counted);
      return;
    }
  }
  body.insert(units.empty() ? 0 : units.back().end, entry);
}

// The section of that kind (and id), created where it belongs.
Section& Ensure(std::vector<Section>& sections, SectionKind kind, std::string_view id,
                std::string_view title) {
  for (Section& s : sections) {
    if (s.kind == kind && s.id == id) return s;
  }
  std::string heading;
  switch (kind) {
    case SectionKind::kNext: heading = "## Next\n"; break;
    case SectionKind::kNotes: heading = "## Notes\n"; break;
    default:
      heading = "## " + std::string(id) + ": " +
                std::string(TrimAsciiSpace(title).empty() ? std::string_view(id) : TrimAsciiSpace(title)) + "\n";
      break;
  }
  // Next goes first, Notes before the first task, tasks at the end.
  size_t at = sections.size();
  for (size_t i = 1; i < sections.size(); ++i) {
    if (kind == SectionKind::kNext ||
        (kind == SectionKind::kNotes && sections[i].kind == SectionKind::kTask)) {
      at = i;
      break;
    }
  }
  Section& prev = sections[at - 1];
  EnsureNewline(prev.body);
  if (!(prev.heading + prev.body).ends_with("\n\n") && !(prev.heading + prev.body).empty()) {
    prev.body += "\n";
  }
  Section fresh = FromHeading(heading);
  fresh.kind = kind;
  fresh.id = std::string(id);
  if (at < sections.size()) fresh.body = "\n";  // a blank line before the next section
  return *sections.insert(sections.begin() + static_cast<long>(at), std::move(fresh));
}

// Read-modify-write under the directory lock; creates a missing file from
// EmptyProgress(). Retries when a person saved the file meanwhile.
Status Update(const std::filesystem::path& path,
              const std::function<void(std::vector<Section>&)>& edit) {
  std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  platform::DirectoryLock lock = TRY(platform::DirectoryLock::Acquire(dir));
  for (int attempt = 0; attempt < 3; ++attempt) {
    // A link leading out of the repository is refused, not read: its target
    // would be copied into progress.md and from there into prompts.
    auto current = ReadMemoryFile(path);
    if (!current && current.error().code() != StatusCode::kNotFound) return current.error();

    std::vector<Section> sections = Split(current ? *current : EmptyProgress());
    edit(sections);
    platform::WriteOptions options;
    if (current) {
      options.expected = *current;
    } else {
      options.mode = platform::WriteOptions::Mode::kCreateOnly;
    }
    // Notes quote gate reasons and summaries: no secret is written down.
    Status written = platform::WriteFileAtomically(path, Redactor::Apply(Join(sections)), options);
    if (written.code() != StatusCode::kFailedPrecondition &&
        written.code() != StatusCode::kAlreadyExists) {
      return written;
    }
  }
  return FailedPrecondition(path.string() + " kept changing while tandem was updating it");
}

std::string OutcomeText(const TaskOutcome& o) {
  std::string text(protocol::Name(o.state));
  if (o.retries > 0) {
    text += " (" + std::to_string(o.retries) + (o.retries == 1 ? " retry)" : " retries)");
  }
  return text;
}

// --- ExtractForTask ---------------------------------------------------------

struct Candidate {
  size_t section = 0;  // index into the chosen sections
  std::string text;    // the unit's bytes
  size_t order = 0;    // position within its section
  bool head = false;   // an outcome or summary entry
};

std::string OmittedLine(size_t n) {
  return "[... " + std::to_string(n) + (n == 1 ? " entry" : " entries") +
         " omitted ...]\n";
}

}  // namespace

std::string_view NoteKindName(NoteKind kind) {
  switch (kind) {
    case NoteKind::kDecision: return "decision";
    case NoteKind::kFailure: return "failure";
    case NoteKind::kQuestion: return "question";
    case NoteKind::kSteer: return "steer";
    case NoteKind::kNote: return "note";
  }
  return "note";
}

std::string EmptyProgress() {
  return "# Progress\n"
         "\n"
         "tandem records here what each task came to, decisions, failures, open questions\n"
         "and steering notes. Notes you add under \"## Notes\" reach every task's context.\n"
         "\n"
         "## Next\n"
         "\n"
         "## Notes\n";
}

Status RecordOutcome(const std::filesystem::path& path, const TaskOutcome& outcome) {
  return Update(path, [&](std::vector<Section>& sections) {
    Section& s = Ensure(sections, SectionKind::kTask, outcome.id, outcome.title);
    PutEntry(s.body, "outcome", FormatEntry("outcome", OutcomeText(outcome)), "");
    if (!TrimAsciiSpace(outcome.summary).empty()) {
      PutEntry(s.body, "summary", FormatEntry("summary", outcome.summary), "outcome");
    }
  });
}

Status AppendNote(const std::filesystem::path& path, std::string_view task_id, NoteKind kind,
                  std::string_view text) {
  return Update(path, [&](std::vector<Section>& sections) {
    Section& s = task_id.empty() ? Ensure(sections, SectionKind::kNotes, "", "")
                                 : Ensure(sections, SectionKind::kTask, task_id, "");
    AppendEntry(s.body, FormatEntry(NoteKindName(kind), text));
  });
}

Status SetNext(const std::filesystem::path& path, const std::vector<std::string>& items) {
  return Update(path, [&](std::vector<Section>& sections) {
    Section& s = Ensure(sections, SectionKind::kNext, "", "");
    bool last = &s == &sections.back();
    s.body = "\n";
    for (const std::string& item : items) s.body += FormatEntry("", item);
    if (!last && !items.empty()) s.body += "\n";
  });
}

std::vector<TaskOutcome> ReadOutcomes(std::string_view text) {
  std::vector<TaskOutcome> out;
  for (const Section& s : Split(text)) {
    if (s.kind != SectionKind::kTask) continue;
    TaskOutcome o;
    o.id = s.id;
    std::string_view heading = TrimAsciiSpace(std::string_view(s.heading).substr(2));
    o.title = std::string(TrimAsciiSpace(heading.substr(heading.find(':') + 1)));
    // The first outcome and summary entries count: they are the ones
    // RecordOutcome replaces, so a duplicate a person left below is inert.
    bool found = false, seen_outcome = false, seen_summary = false;
    for (const Unit& u : Units(s.body)) {
      std::string value = UnitText(std::string_view(s.body).substr(u.begin, u.end - u.begin));
      if (u.label == "summary" && !seen_summary) {
        o.summary = value;
        seen_summary = true;
      }
      if (u.label != "outcome" || seen_outcome) continue;
      seen_outcome = true;
      std::string_view v = value;
      std::string_view word = v.substr(0, v.find_first_of(" (,"));
      for (TaskState st : {TaskState::kPending, TaskState::kRunning, TaskState::kDone,
                           TaskState::kFailed, TaskState::kSkipped, TaskState::kWaiting}) {
        if (protocol::Name(st) == word) {
          o.state = st;
          found = true;
        }
      }
      if (size_t paren = v.find('('); paren != std::string_view::npos) {
        o.retries = std::atoi(std::string(v.substr(paren + 1)).c_str());
      }
    }
    if (found) out.push_back(std::move(o));
  }
  return out;
}

std::string ExtractForTask(std::string_view text, std::string_view task_id, size_t max_bytes,
                           const std::vector<std::string>& related) {
  // The sections that concern the task, in file order.
  std::vector<Section> chosen;
  for (Section& s : Split(text)) {
    bool wanted = s.kind == SectionKind::kNotes ||
                  (s.kind == SectionKind::kTask &&
                   (s.id == task_id || std::find(related.begin(), related.end(), s.id) != related.end()));
    if (wanted) chosen.push_back(std::move(s));
  }
  // Units per section, and the order in which they earn a place.
  std::vector<std::vector<Candidate>> units(chosen.size());
  auto rank = [&](SectionKind kind, bool own, bool head) {
    if (own) return head ? 0 : 1;
    if (kind == SectionKind::kNotes) return 2;
    return head ? 3 : 4;
  };
  std::vector<std::pair<int, Candidate*>> ranked;
  for (size_t i = 0; i < chosen.size(); ++i) {
    std::vector<Unit> us = Units(chosen[i].body);
    for (size_t k = 0; k < us.size(); ++k) {
      std::string t = chosen[i].body.substr(us[k].begin, us[k].end - us[k].begin);
      EnsureNewline(t);
      bool head = us[k].label == "outcome" || us[k].label == "summary";
      units[i].push_back({i, std::move(t), k, head});
    }
  }
  for (size_t i = 0; i < chosen.size(); ++i) {
    bool own = chosen[i].kind == SectionKind::kTask && chosen[i].id == task_id;
    // Newest (last) first within a rank; outcome and summary form their own rank.
    for (size_t k = units[i].size(); k-- > 0;) {
      ranked.emplace_back(rank(chosen[i].kind, own, units[i][k].head), &units[i][k]);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  // Greedy selection against an upper bound of the rendered size: a section
  // costs its heading and, when anything of it is left out, an omission line
  // (sized for the largest possible count).
  std::vector<std::vector<bool>> kept(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) kept[i].assign(units[i].size(), false);
  std::vector<size_t> kept_count(chosen.size(), 0);
  size_t used = 0;
  auto section_cost = [&](size_t i) {
    size_t heading = chosen[i].heading.size() + (chosen[i].heading.ends_with('\n') ? 0 : 1);
    return heading + OmittedLine(units[i].size()).size();
  };
  for (auto& [r, c] : ranked) {
    size_t cost = c->text.size() + (kept_count[c->section] == 0 ? section_cost(c->section) : 0);
    if (used + cost > max_bytes) {
      // The task's own newest entry is worth a cut version (e.g. a long failure).
      size_t fixed = cost - c->text.size();
      const std::string mark = " [...]\n";
      if (r <= 1 && used + fixed + mark.size() + 64 <= max_bytes) {
        c->text = CutUtf8(c->text, max_bytes - used - fixed - mark.size()) + mark;
        cost = fixed + c->text.size();
      } else {
        continue;
      }
    }
    used += cost;
    kept[c->section][c->order] = true;
    ++kept_count[c->section];
  }

  std::string out;
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (kept_count[i] == 0) continue;
    out += chosen[i].heading;
    if (!out.ends_with('\n')) out += '\n';
    size_t omitted = units[i].size() - kept_count[i];
    if (omitted > 0) out += OmittedLine(omitted);
    for (size_t k = 0; k < units[i].size(); ++k) {
      if (kept[i][k]) out += units[i][k].text;
    }
  }
  return out;
}

}  // namespace tandem::memory
